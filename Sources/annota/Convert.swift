import AnnotaEngine
import AnnotaImage
import AnnotaImageIO
import ArgumentParser

struct Convert: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Decode an image and write it as a lossless PNG.",
    discussion: """
      The output is written atomically (temporary file + rename). A missing or unreadable \
      input exits 2; an input that cannot be decoded exits 1, with a message naming the file.
      """)

  @Argument(help: "Input image (PNG or JPEG).")
  var input: String

  @Argument(help: "Output PNG file.")
  var output: String

  @Option(help: "Decode scale: 1, 1/2, 1/4 or 1/8 (JPEG: DCT scaling; PNG: block average).",
          transform: { text in
            guard let scale = DecodeScale(parsing: text) else {
              throw ValidationError("--scale must be 1, 1/2, 1/4 or 1/8 (got '\(text)')")
            }
            return scale
          })
  var scale: DecodeScale = .full

  @Flag(help: "Decode to one grey channel.")
  var gray = false

  @Option(help: "Only this region, in full-resolution pixels: x,y,w,h.",
          transform: { text in
            let parts = text.split(separator: ",").map { Int($0.filter { $0 != " " }) }
            guard parts.count == 4, let x = parts[0], let y = parts[1], let w = parts[2],
              let h = parts[3], x >= 0, y >= 0, w > 0, h > 0
            else {
              throw ValidationError("--region must be x,y,w,h with x,y >= 0 and w,h > 0 (got '\(text)')")
            }
            return PixelRect(x: x, y: y, width: w, height: h)
          })
  var region: PixelRect?

  @Flag(help: "Turn the image upright according to its EXIF orientation.")
  var applyOrientation = false

  @Option(help: "When damaged data is an error: none, truncated (default) or warning.",
          transform: choice("--fail-on"))
  var failOn: FailOn = .truncated

  @Option(help: "Largest image accepted, in pixels.")
  var maxPixels = DecodeLimits.default.maxPixels

  @Option(help: "zlib compression level of the PNG, 0-9.")
  var compression: Int?

  func validate() throws {
    if maxPixels < 1 { throw ValidationError("--max-pixels must be positive") }
    if let compression, !(0...9).contains(compression) {
      throw ValidationError("--compression must be between 0 and 9")
    }
  }

  func run() throws {
    let options = DecodeOptions(
      scale: scale, region: region, gray: gray, applyOrientation: applyOrientation,
      failOn: failOn, limits: DecodeLimits(maxPixels: maxPixels))
    let decoded: DecodedImage
    do {
      decoded = try ImageFiles.decode(input, options: options)
    } catch {
      printError("annota: error: \(error.description)")
      throw error.category == .file ? Exit.couldNotRun : Exit.someFailed
    }
    if decoded.truncated {
      printError("annota: warning: \(input): data is truncated; the missing part is filled")
    }
    do {
      try ImageFiles.writePNG(decoded.image, to: output, compressionLevel: compression)
    } catch {
      printError("annota: error: \(error.description)")
      throw Exit.couldNotRun
    }
  }
}
