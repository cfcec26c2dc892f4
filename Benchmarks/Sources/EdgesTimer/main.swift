// annota-edges-bench: times AnnotaEdges on one image, single thread, the same loop as
// baselines/pyedges.py (warm-up, then the median of N), used by compare-edges.sh.
//
//   annota-edges-bench IMAGE --op canny|canny-auto|sobel|gaussian [--low 50] [--high 150] [--l2]
//                      [--sigma 1.4] [--colour] [--iters N] [--warmup N] [--write-input OUT.png]
//
// IMAGE is decoded with Annota's decoder and converted once, outside the timed loop, to grey
// (ITU-R 601 luma) or, with --colour, to RGB. --write-input saves that image as a PNG and exits,
// so that the reference reads the very same pixels. Prints one line:
//   op=… median_ms=… best_ms=… out=WxH checksum=…
// where the checksum (position-weighted sum of the output samples, as in annota-decode-bench;
// Sobel: of gx then gy as int16 bit patterns) lets compare-edges.sh check that both sides
// produced the same result.
import AnnotaEdges
import AnnotaEngine
import AnnotaImage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
  var text = "annota-edges-bench: \(message)\n"
  text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }  // stderr
  exit(64)
}

func nowNanoseconds() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Sum of value × (i mod 65521 + 1) over the values in order, as pyedges.py computes it.
func checksum(_ values: [UInt8]) -> UInt64 {
  var sum: UInt64 = 0
  for (i, value) in values.enumerated() { sum &+= UInt64(value) &* UInt64(i % 65521 + 1) }
  return sum
}

/// The same over the 16-bit patterns of signed values (two's complement, as numpy's uint16 view).
func checksum(_ values: [Int16]) -> UInt64 {
  var sum: UInt64 = 0
  for (i, value) in values.enumerated() {
    sum &+= UInt64(UInt16(bitPattern: value)) &* UInt64(i % 65521 + 1)
  }
  return sum
}

func number(_ flag: String, _ value: String) -> Double {
  guard let number = Double(value) else { fail("bad \(flag) \(value)") }
  return number
}

var arguments = CommandLine.arguments.dropFirst()
guard let path = arguments.popFirst() else {
  fail("usage: annota-edges-bench IMAGE --op canny|canny-auto|sobel|gaussian [--low L] [--high H] "
    + "[--l2] [--sigma S] [--colour] [--iters N] [--warmup N] [--write-input OUT.png]")
}
var op = "canny"
var low = 50.0
var high = 150.0
var l2 = false
var sigma = 1.4
var iterations = 50
var warmup = 5
var colour = false
var inputOutput: String?
while let flag = arguments.popFirst() {
  if flag == "--l2" || flag == "--colour" {
    if flag == "--l2" { l2 = true } else { colour = true }
    continue
  }
  guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
  switch flag {
  case "--op": op = value
  case "--low": low = number(flag, value)
  case "--high": high = number(flag, value)
  case "--sigma": sigma = number(flag, value)
  case "--iters":
    guard let n = Int(value), n > 0 else { fail("bad --iters \(value)") }
    iterations = n
  case "--warmup":
    guard let n = Int(value), n >= 0 else { fail("bad --warmup \(value)") }
    warmup = n
  case "--write-input": inputOutput = value
  default: fail("unknown option \(flag)")
  }
}

let input: Image
do throws(ItemError) {
  input = try ImageFiles.decode(path).image.converted(to: colour ? .rgb : .gray)
} catch {
  fail("\(path): \(error)")
}
if let inputOutput {
  do throws(ItemError) { try ImageFiles.writePNG(input, to: inputOutput) } catch {
    fail("\(inputOutput): \(error)")
  }
  exit(0)
}

/// Runs `body` warmup + iterations times; returns the median and best times in ms and the last
/// result.
@MainActor
func measure<T>(_ body: () -> T) -> (median: Double, best: Double, last: T) {
  var times: [UInt64] = []
  times.reserveCapacity(iterations)
  var last: T?
  for iteration in 0..<(warmup + iterations) {
    let start = nowNanoseconds()
    let result = body()
    let elapsed = nowNanoseconds() - start
    if iteration >= warmup { times.append(elapsed) }
    last = result  // keeps the result alive past the timed region, like the Python loop
  }
  times.sort()
  let median = times.count % 2 == 1
    ? Double(times[times.count / 2])
    : Double(times[times.count / 2 - 1] + times[times.count / 2]) / 2
  return (median / 1e6, Double(times[0]) / 1e6, last!)
}

let size = "\(input.width)x\(input.height)"
switch op {
case "canny":
  let (median, best, edges) = measure { EdgeDetector.canny(input, low: low, high: high, l2: l2) }
  print(
    "op=canny median_ms=\(median) best_ms=\(best) out=\(size) checksum=\(checksum(edges.pixels))")
case "canny-auto":
  let (median, best, result) = measure { EdgeDetector.canny(input, l2: l2) }
  print("op=canny-auto median_ms=\(median) best_ms=\(best) out=\(size) "
    + "checksum=\(checksum(result.edges.pixels)) low=\(result.thresholds.low) "
    + "high=\(result.thresholds.high)")
case "sobel":
  let (median, best, g) = measure { EdgeDetector.sobel(input) }
  print(
    "op=sobel median_ms=\(median) best_ms=\(best) out=\(size) checksum=\(checksum(g.gx + g.gy))")
case "gaussian":
  let (median, best, blurred) = measure { EdgeDetector.gaussian(input, sigma: sigma) }
  print("op=gaussian median_ms=\(median) best_ms=\(best) out=\(size) "
    + "checksum=\(checksum(blurred.pixels))")
default:
  fail("unknown --op \(op)")
}
