import AnnotaGeometry
import AnnotaImage
import AnnotaImageIO
import Foundation
import Testing

@Suite("Corrupt, truncated and hostile inputs")
struct ErrorTests {
  @Test("every bad file throws the expected typed error", arguments: manifestBad)
  func badFile(_ entry: ManifestBad) throws {
    let data = try bytes(entry.file)
    let error = #expect(throws: DecodeError.self) { try ImageDecoder.decode(data) }
    let kind = try #require(error).kind
    switch entry.expectError {
    case "truncated": #expect(kind == .truncated || (data.isEmpty && kind == .unknownFormat))
    case "corrupt": #expect(kind == .corrupt || kind == .unknownFormat)
    case "limit": #expect(kind == .limit)
    case "unsupported": #expect(kind == .unsupported)
    default: Issue.record("unknown expectation \(entry.expectError)")
    }
    #expect(!(error?.message.isEmpty ?? true))
  }

  @Test("codec messages are carried through")
  func messages() throws {
    let jpeg = #expect(throws: DecodeError.self) {
      try ImageDecoder.decode(try bytes("images/bad/truncated_baseline.jpg"))
    }
    #expect(jpeg?.message.contains("libjpeg") == true)
    #expect(jpeg?.message.contains("Premature end") == true)
    let png = #expect(throws: DecodeError.self) {
      try ImageDecoder.decode(try bytes("images/bad/png_bad_ihdr.png"))
    }
    #expect(png?.message.contains("libpng") == true)
  }

  @Test("fail-on none accepts truncated data and says so")
  func failOnNone() throws {
    for file in ["images/bad/truncated_baseline.jpg", "images/bad/truncated.png"] {
      let decoded = try ImageDecoder.decode(try bytes(file), options: DecodeOptions(failOn: .none))
      #expect(decoded.truncated, "\(file)")
      #expect(decoded.image.width > 0)
    }
    // Cut inside a progressive scan header: nothing can be salvaged, but it is reported as the
    // truncation it is, not as corruption.
    let progressive = #expect(throws: DecodeError.self) {
      try ImageDecoder.decode(try bytes("images/bad/truncated_progressive.jpg"), options: DecodeOptions(failOn: .none))
    }
    #expect(progressive?.kind == .truncated)
    // The rows before the cut are the same as in the intact file.
    let intact = try ImageDecoder.decode(try bytes("images/png_rgb8.png")).image
    let cut = try ImageDecoder.decode(try bytes("images/bad/truncated.png"),
                                      options: DecodeOptions(failOn: .none)).image
    #expect(intact.cropped(to: PixelRect(x: 0, y: 0, width: intact.width, height: 3))
            == cut.cropped(to: PixelRect(x: 0, y: 0, width: cut.width, height: 3)))
  }

  @Test("truncation at every length never crashes and never returns silently in strict mode")
  func everyTruncation() throws {
    for file in ["images/jpeg_progressive.jpg", "images/jpeg_baseline_420.jpg", "images/png_rgb8_adam7.png",
                 "images/png_pal4.png"] {
      let data = try bytes(file)
      let lengths = Array(Swift.stride(from: 0, to: data.count - 1, by: 7)) + Array((data.count - 16)..<data.count)
      for length in lengths {
        let prefix = Array(data[..<length])
        do {
          let decoded = try ImageDecoder.decode(prefix)
          // Only the end marker may be missing: JPEG's 2-byte EOI, PNG's 12-byte IEND chunk.
          let trailer = file.hasSuffix(".png") ? 12 : 2
          #expect(decoded.warnings > 0 || length >= data.count - trailer, "\(file) cut at \(length)")
        } catch {
          #expect([.truncated, .corrupt, .unknownFormat].contains(error.kind), "\(file) cut at \(length): \(error)")
        }
        _ = try? ImageDecoder.decode(prefix, options: DecodeOptions(failOn: .none))
      }
    }
  }

  @Test("limits refuse an oversized header before allocating")
  func limits() throws {
    let before = peakResidentBytes()
    for file in ["images/bad/jpeg_huge_header.jpg", "images/bad/png_huge_header.png"] {
      let data = try bytes(file)
      let error = #expect(throws: DecodeError.self) { try ImageDecoder.decode(data) }
      #expect(error?.kind == .limit)
      // Even with a generous pixel limit, the codec's memory cap stops the 2.9 GB coefficient
      // buffer of the progressive bomb.
      _ = try? ImageDecoder.decode(
        data, options: DecodeOptions(limits: DecodeLimits(maxPixels: 1 << 40, maxCodecMemory: 64 << 20)))
    }
    #expect(peakResidentBytes() - before < 200 << 20, "peak memory grew while refusing bombs")
    // A tighter pixel limit applies to ordinary files too, from the header.
    let small = #expect(throws: DecodeError.self) {
      try ImageDecoder.decode(try bytes("images/jpeg_large_420.jpg"),
                              options: DecodeOptions(limits: DecodeLimits(maxPixels: 1000)))
    }
    #expect(small?.kind == .limit)
    let info = #expect(throws: DecodeError.self) {
      try ImageDecoder.info(try bytes("images/png_rgb8.png"), limits: DecodeLimits(maxPixels: 100))
    }
    #expect(info?.kind == .limit)
  }

  @Test("random bytes after a valid signature are errors, not crashes")
  func garbage() {
    var rng = SplitMix64(seed: 3)
    for signature in [[0xFF, 0xD8, 0xFF, 0xC0] as [UInt8], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]] {
      for length in [0, 1, 10, 100, 1000] {
        let data = signature + (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(throws: DecodeError.self) { try ImageDecoder.decode(data) }
      }
    }
  }
}

@Suite("Concurrency and encoding")
struct ConcurrencyTests {
  @Test("many concurrent decodes give the same pixels as one")
  func concurrentDecodes() async throws {
    let files = manifestImages.filter { $0.scale == 1 && !$0.grayOutput }.map(\.file)
    let data = try files.map { try bytes($0) }
    let serial = try data.map { try ImageDecoder.decode($0).image }
    let parallel = try await withThrowingTaskGroup(of: (Int, Image).self) { group in
      for round in 0..<8 {
        for (i, d) in data.enumerated() {
          group.addTask { (i, try ImageDecoder.decode(d, options: DecodeOptions(scale: round % 2 == 0 ? .full : .full)).image) }
        }
      }
      var out: [(Int, Image)] = []
      for try await result in group { out.append(result) }
      return out
    }
    #expect(parallel.count == data.count * 8)
    for (i, image) in parallel { #expect(image == serial[i]) }
  }

  @Test("PNG encoding round-trips every layout", arguments: PixelFormat.allCases)
  func pngRoundTrip(_ format: PixelFormat) throws {
    var rng = SplitMix64(seed: UInt64(format.rawValue))
    for (w, h) in [(1, 1), (7, 3), (64, 40)] {
      let image = Image(width: w, height: h, format: format,
                        pixels: (0..<(w * h * format.channels)).map { _ in UInt8.random(in: 0...255, using: &rng) })
      for level in [nil, 0, 9] as [Int?] {
        let png = try PNGEncoder.encode(image, compressionLevel: level)
        #expect(ImageFormat.sniff(png) == .png)
        #expect(try ImageDecoder.decode(png).image == image)
      }
    }
    // A padded stride is honoured.
    let padded = Image(width: 3, height: 2, format: format, stride: 3 * format.channels + 5,
                       pixels: (0..<((3 * format.channels + 5) * 2)).map { UInt8($0) })
    #expect(try ImageDecoder.decode(try PNGEncoder.encode(padded)).image == padded)
  }

  @Test("encoding an empty image is an error")
  func emptyEncode() {
    #expect(throws: EncodeError.self) { try PNGEncoder.encode(Image(width: 0, height: 0, format: .rgb)) }
  }
}
