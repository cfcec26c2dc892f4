// annota-decode-bench: times ImageDecoder.decode on bytes already in memory, single thread, the
// same loop as baselines/rawdecode.c and baselines/pydecode.py (used by compare-decode.sh).
//
//   annota-decode-bench FILE [--scale 1|2|4|8] [--region x,y,w,h] [--iters N] [--warmup N]
//
// The region is in full-resolution pixels (as `DecodeOptions.region`). Prints one line:
//   median_ms=… best_ms=… out=WxHxC checksum=…
// where the checksum (a position-weighted sum of the output samples) lets compare-decode.sh check
// that every timer decoded the same pixels.
import AnnotaEngine
import AnnotaImage
import AnnotaImageIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
  var text = "annota-decode-bench: \(message)\n"
  text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }  // stderr
  exit(64)
}

func nowNanoseconds() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Sum of sample × (i mod 65521 + 1) over the samples in row-major order (i counts samples,
/// not padding), as rawdecode.c and pydecode.py compute it.
func checksum(_ image: Image) -> UInt64 {
  var sum: UInt64 = 0
  var i: UInt64 = 0
  image.pixels.withUnsafeBufferPointer { pixels in
    for row in 0..<image.height {
      let start = row * image.stride
      for byte in pixels[start..<(start + image.rowBytes)] {
        sum &+= UInt64(byte) &* (i % 65521 + 1)
        i += 1
      }
    }
  }
  return sum
}

var arguments = CommandLine.arguments.dropFirst()
guard let path = arguments.popFirst() else {
  fail("usage: annota-decode-bench FILE [--scale 1|2|4|8] [--region x,y,w,h] [--iters N] [--warmup N]")
}
var options = DecodeOptions()
var iterations = 50
var warmup = 5
while let flag = arguments.popFirst() {
  guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
  switch flag {
  case "--scale":
    guard let scale = DecodeScale(parsing: value) else { fail("bad scale \(value)") }
    options.scale = scale
  case "--region":
    let parts = value.split(separator: ",").compactMap { Int($0) }
    guard parts.count == 4 else { fail("bad region \(value) (want x,y,w,h)") }
    options.region = PixelRect(x: parts[0], y: parts[1], width: parts[2], height: parts[3])
  case "--iters":
    guard let n = Int(value), n > 0 else { fail("bad --iters \(value)") }
    iterations = n
  case "--warmup":
    guard let n = Int(value), n >= 0 else { fail("bad --warmup \(value)") }
    warmup = n
  default:
    fail("unknown option \(flag)")
  }
}

let bytes: [UInt8]
do throws(FileError) { bytes = try FileIO.read(path) } catch { fail("\(error)") }

var last: DecodedImage?
var times: [UInt64] = []
times.reserveCapacity(iterations)
for iteration in 0..<(warmup + iterations) {
  let start = nowNanoseconds()
  let decoded: DecodedImage
  do throws(DecodeError) { decoded = try ImageDecoder.decode(bytes, options: options) } catch {
    fail("\(path): \(error)")
  }
  let elapsed = nowNanoseconds() - start
  if iteration >= warmup { times.append(elapsed) }
  last = decoded  // keeps the result alive past the timed region, like the C and Python loops
}
times.sort()
let median = times.count % 2 == 1
  ? Double(times[times.count / 2])
  : Double(times[times.count / 2 - 1] + times[times.count / 2]) / 2
let image = last!.image
print(
  "median_ms=\(median / 1e6) best_ms=\(Double(times[0]) / 1e6) "
    + "out=\(image.width)x\(image.height)x\(image.format.channels) checksum=\(checksum(image))")
