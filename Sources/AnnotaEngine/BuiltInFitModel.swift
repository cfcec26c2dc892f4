public import AnnotaFit

/// The learned fitter's built-in model (see `BuiltInFitModelData.swift` for its provenance).
public enum BuiltInFitModel {
  /// Parsed once on first use.
  public static let model: FitModel = {
    do { return try FitModelFile.parse(Array(BuiltInFitModelData.json.utf8), path: "<built-in fit model>") } catch {
      preconditionFailure("the built-in fit model does not parse: \(error)")
    }
  }()
}
