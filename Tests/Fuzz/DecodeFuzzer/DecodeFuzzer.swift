// libFuzzer harness for the PNG and JPEG decoders. Build and run (see README, "Fuzzing"):
//   swift build --product AnnotaFuzzDecode --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
//     -Xcc -fsanitize=address --scratch-path .build-fuzz
//   ./.build-fuzz/debug/AnnotaFuzzDecode CORPUS -max_total_time=180 -rss_limit_mb=2048
// In a plain build this links as a harmless executable that does nothing.
import AnnotaImage
import AnnotaImageIO

/// Small limits so that the fuzzer explores parsing, not huge allocations.
private let fuzzLimits = DecodeLimits(maxPixels: 4_000_000, maxCodecMemory: 256 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecode(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  // The first byte picks the request so every path (scale, region, gray, policy) is reached.
  let selector = size > 0 ? bytes[size - 1] : 0
  _ = try? ImageDecoder.info(bytes, limits: fuzzLimits)
  var options = DecodeOptions(limits: fuzzLimits)
  options.scale = DecodeScale.allCases[Int(selector & 3)]
  options.gray = selector & 4 != 0
  options.failOn = FailOn.allCases[Int(selector >> 3) % 3]
  options.applyOrientation = selector & 0x20 != 0
  if selector & 0x40 != 0 {
    options.region = PixelRect(x: Int(selector % 7), y: Int(selector % 5), width: 9, height: 6)
  }
  if let decoded = try? ImageDecoder.decode(bytes, options: options) {
    // Touch every sample so ASan sees any uninitialised or out-of-bounds buffer.
    var sum = 0
    for byte in decoded.image.pixels { sum &+= Int(byte) }
    precondition(sum >= 0)
    precondition(decoded.image.pixels.count >= decoded.image.rowBytes * decoded.image.height)
  }
  return 0
}
