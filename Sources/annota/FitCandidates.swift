import AnnotaEngine
import AnnotaFit
import AnnotaLinearAlgebra
import ArgumentParser

/// A development tool: dumps the learned fitter's side candidates of jittered gold boxes, for
/// studying features and decision rules outside Swift.
struct FitCandidates: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fit-candidates",
    abstract: "Dump side candidates and features of jittered gold boxes (development).",
    shouldDisplay: false)

  @Argument var annotations: String
  @Option var images: String
  @Option(help: "Rows: instance, side, offset, truth offset, features… (Float32 .npy).")
  var out: String
  @Option(help: "CSV of instances.") var instances: String
  @Option var settings = "mixed5,mixed10,mixed20,loose,tight"
  @Option(help: "Comma-separated seeds; one draw per setting and seed.") var seeds = "0"
  @OptionGroup var common: CommonOptions

  func run() async throws {
    let parse: @Sendable (String) throws -> JitterSetting = choice("--settings")
    let list = try settings.split(separator: ",").map { try parse(String($0)) }
    let seedList = seeds.split(separator: ",").compactMap { UInt64($0) }
    let draws = seedList.flatMap { s in list.map { (setting: $0, seed: s) } }
    let dataset = try await loadDatasets([annotations], threads: common.threadCount)[0]
    let progress = ProgressReporter(total: dataset.annotationsByImage().count, label: "images", quiet: common.quiet)
    let (found, issues) = await FitTraining.collect(
      dataset, imagesDirectory: images, draws: draws, runner: BatchRunner(maxConcurrency: common.threadCount),
      progress: progress)
    progress.finish()
    let fc = SideCandidates.featureCount
    var rows: [Float] = []
    var csv = "instance,image_id,annotation_id,setting,seed,rough_x,rough_y,rough_w,rough_h,truth_x,truth_y,truth_w,truth_h\n"
    for (k, inst) in found.enumerated() {
      csv += "\(k),\(inst.imageID),\(inst.annotationID),\(inst.setting.rawValue),\(inst.seed),\(inst.rough.x),\(inst.rough.y),\(inst.rough.width),\(inst.rough.height),\(inst.truth.x),\(inst.truth.y),\(inst.truth.width),\(inst.truth.height)\n"
      for side in 0..<4 {
        let s = inst.candidates.sides[side]
        let t = Float(inst.truthOffset(side: side))
        for c in s.offsets.indices {
          rows += [Float(k), Float(side), Float(s.offsets[c]), t]
          rows += s.features[(c * fc)..<((c + 1) * fc)]
        }
      }
    }
    let m = Matrix<Float>(rows: rows.count / (fc + 4), columns: fc + 4, storage: rows)
    try FileIO.writeAtomically(NPY.encode(m), to: out)
    try FileIO.writeAtomically(csv, to: instances)
    let errors = reportIssues(issues, quiet: common.quiet)
    if errors > 0 { throw Exit.someFailed }
  }
}
