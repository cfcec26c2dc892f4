enum BuiltInFitModelData { static let json = "" }
