import AnnotaGeometry
import AnnotaImage
import AnnotaImageIO
import Foundation
import Testing

@Suite("Decoding the generated test images")
struct DecodeTests {
  @Test("the manifest lists the generated files")
  func manifestIsPresent() {
    #expect(manifestImages.count >= 40)
    #expect(manifestBad.count >= 10)
  }

  @Test("pixel-exact decode (PNG from the generator's own pixels, JPEG as djpeg -dct int)",
        arguments: manifestImages)
  func pixelExact(_ entry: ManifestImage) throws {
    let expected = try loadPAM(entry.expected)
    let options = DecodeOptions(scale: DecodeScale(rawValue: entry.scale)!, gray: entry.grayOutput)
    let decoded = try ImageDecoder.decode(try bytes(entry.file), options: options)
    #expect(decoded.image.width == expected.width)
    #expect(decoded.image.height == expected.height)
    #expect(decoded.image.format == expected.format)
    if decoded.image != expected {
      let a = decoded.image.packed().pixels
      let b = expected.pixels
      let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
      Issue.record("pixels differ; first at byte \(first?.offset ?? -1): \(first.map { "\($0.element.0) vs \($0.element.1)" } ?? "size")")
    }
    #expect(decoded.warnings == 0)
    #expect(!decoded.truncated)
  }

  @Test("info agrees with the decode and reports EXIF orientation", arguments: manifestImages)
  func info(_ entry: ManifestImage) throws {
    let info = try ImageDecoder.info(try bytes(entry.file))
    #expect(info.format.rawValue == entry.kind)
    let full = try ImageDecoder.decode(try bytes(entry.file))
    #expect(info.width == full.image.width && info.height == full.image.height)
    #expect(info.outputFormat == full.image.format)
    #expect(info.orientation?.rawValue == entry.exifOrientation)
  }

  @Test("applying EXIF orientation rotates as the tag says")
  func orientation() throws {
    for name in ["jpeg_exif_orient3", "jpeg_exif_orient6", "jpeg_exif_orient8"] {
      let data = try bytes("images/\(name).jpg")
      let stored = try ImageDecoder.decode(data).image
      let upright = try ImageDecoder.decode(data, options: DecodeOptions(applyOrientation: true)).image
      let orientation = try #require(try ImageDecoder.info(data).orientation)
      #expect(upright == stored.applying(orientation))
      switch orientation {
      case .down:
        #expect(upright.width == stored.width)
        #expect(upright[0, 0, 0] == stored[stored.width - 1, stored.height - 1, 0])
      case .right:  // rotate 90° clockwise: the stored bottom-left pixel becomes the top-left
        #expect(upright.width == stored.height && upright.height == stored.width)
        #expect(upright[0, 0, 1] == stored[0, stored.height - 1, 1])
      case .left:  // rotate 90° counter-clockwise: the stored top-right pixel becomes the top-left
        #expect(upright.width == stored.height)
        #expect(upright[0, 0, 2] == stored[stored.width - 1, 0, 2])
      default: Issue.record("unexpected orientation \(orientation)")
      }
    }
  }

  @Test("orientation transforms compose to the identity")
  func orientationAlgebra() {
    var rng = SplitMix64(seed: 7)
    let image = Image(width: 5, height: 3, format: .rgb,
                      pixels: (0..<45).map { _ in UInt8.random(in: 0...255, using: &rng) })
    #expect(image.applying(.right).applying(.left) == image)
    #expect(image.applying(.down).applying(.down) == image)
    #expect(image.applying(.upMirrored).applying(.upMirrored) == image)
    #expect(image.applying(.leftMirrored).applying(.leftMirrored) == image)
    #expect(image.applying(.right).applying(.right) == image.applying(.down))
  }

  @Test("format is sniffed from the bytes, not the name")
  func sniffing() throws {
    #expect(ImageFormat.sniff(try bytes("images/png_rgb8.png")) == .png)
    #expect(ImageFormat.sniff(try bytes("images/jpeg_gray.jpg")) == .jpeg)
    #expect(ImageFormat.sniff(try bytes("images/bad/not_an_image.txt.png")) == nil)
    #expect(ImageFormat.sniff([]) == nil)
  }
}

@Suite("Region-of-interest and DCT-scaled JPEG decoding")
struct RegionTests {
  static let files = ["images/jpeg_large_420.jpg", "images/jpeg_large_progressive.jpg",
                      "images/jpeg_baseline_422.jpg", "images/jpeg_baseline_444.jpg",
                      "images/jpeg_gray.jpg", "images/jpeg_cmyk.jpg", "images/jpeg_restart.jpg"]

  @Test("a region equals the same region of a full decode, at every scale", arguments: files)
  func regionMatchesFull(_ file: String) throws {
    let data = try bytes(file)
    let info = try ImageDecoder.info(data)
    var rng = SplitMix64(seed: 42)
    for scale in DecodeScale.allCases {
      for gray in [false, true] {
        let full = try ImageDecoder.decode(data, options: DecodeOptions(scale: scale, gray: gray))
        for _ in 0..<12 {
          let w = Int.random(in: 1...info.width, using: &rng)
          let h = Int.random(in: 1...info.height, using: &rng)
          let x = Int.random(in: 0...(info.width - w), using: &rng)
          let y = Int.random(in: 0...(info.height - h), using: &rng)
          let region = PixelRect(x: x, y: y, width: w, height: h)
          let roi = try ImageDecoder.decode(
            data, options: DecodeOptions(scale: scale, region: region, gray: gray))
          let expectedRect = region.scaled(down: scale.denominator)
            .intersection(PixelRect(x: 0, y: 0, width: full.image.width, height: full.image.height))
          #expect(roi.region == expectedRect)
          #expect(roi.image == full.image.cropped(to: expectedRect),
                  "\(file) region \(region) scale \(scale) gray \(gray)")
        }
      }
    }
  }

  @Test("a region on the image's edges and one pixel wide")
  func edgeRegions() throws {
    let data = try bytes("images/jpeg_large_420.jpg")
    let full = try ImageDecoder.decode(data).image
    for rect in [PixelRect(x: 0, y: 0, width: 1, height: 1), PixelRect(x: 159, y: 119, width: 1, height: 1),
                 PixelRect(x: 0, y: 0, width: 160, height: 120), PixelRect(x: 150, y: 0, width: 10, height: 120),
                 PixelRect(x: 17, y: 33, width: 1, height: 50)] {
      let roi = try ImageDecoder.decode(data, options: DecodeOptions(region: rect)).image
      #expect(roi == full.cropped(to: rect), "\(rect)")
    }
  }

  @Test("a region partly outside the image is clipped; one wholly outside is an error")
  func clipping() throws {
    let data = try bytes("images/jpeg_large_420.jpg")
    let full = try ImageDecoder.decode(data).image
    let clipped = try ImageDecoder.decode(
      data, options: DecodeOptions(region: PixelRect(x: 150, y: 100, width: 50, height: 50)))
    #expect(clipped.image == full.cropped(to: PixelRect(x: 150, y: 100, width: 10, height: 20)))
    #expect(throws: DecodeError.self) {
      try ImageDecoder.decode(data, options: DecodeOptions(region: PixelRect(x: 500, y: 0, width: 5, height: 5)))
    }
  }

  @Test("PNG regions and scales follow the same geometry as JPEG")
  func pngRegion() throws {
    let data = try bytes("images/png_rgba8.png")
    let full = try ImageDecoder.decode(data).image
    let rect = PixelRect(x: 3, y: 5, width: 20, height: 11)
    let roi = try ImageDecoder.decode(data, options: DecodeOptions(region: rect))
    #expect(roi.image == full.cropped(to: rect))
    let half = try ImageDecoder.decode(data, options: DecodeOptions(scale: .half))
    #expect(half.image.width == 19 && half.image.height == 12)
    // Block mean of the top-left 2x2 block.
    let mean = (Int(full[0, 0, 0]) + Int(full[1, 0, 0]) + Int(full[0, 1, 0]) + Int(full[1, 1, 0]) + 2) / 4
    #expect(Int(half.image[0, 0, 0]) == mean)
  }

  @Test("sourceRect maps scaled output back to full resolution")
  func mapping() throws {
    let data = try bytes("images/jpeg_large_420.jpg")
    let decoded = try ImageDecoder.decode(
      data, options: DecodeOptions(scale: .quarter, region: PixelRect(x: 40, y: 20, width: 60, height: 40)))
    #expect(decoded.region == PixelRect(x: 10, y: 5, width: 15, height: 10))
    #expect(decoded.sourceRect(of: PixelRect(x: 0, y: 0, width: 1, height: 1))
            == PixelRect(x: 40, y: 20, width: 4, height: 4))
  }
}
