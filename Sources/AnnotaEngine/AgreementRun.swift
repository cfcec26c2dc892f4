public import AnnotaConsensus
import AnnotaGeometry

/// How masks are fused into a consensus.
public enum MaskFusion: String, Sendable, CaseIterable {
  /// Pixel majority vote on the runs (strict majority).
  case vote
  /// STAPLE: binary EM with per-annotator sensitivity and specificity.
  case staple
}

/// Options of `annota agree`.
public struct AgreeOptions: Sendable {
  public var kind: GeometryKind = .box
  /// A pair of objects counts as the same object at IoU ≥ threshold.
  public var threshold = 0.5
  /// Match only objects with the same category.
  public var matchByLabel = false
  public var boxFusion: BoxFusion = .mean
  public var maskFusion: MaskFusion = .vote
  /// Weight box fusion by each object's `score` field.
  public var weightByScore = false
  /// Bootstrap resamples over images for the confidence intervals (0: none).
  public var bootstrap = 1000
  public var seed: UInt64 = 0
  /// Objects with a `score` under this send their image to another annotator.
  public var minScore: Double?

  public init() {}
}

/// Everything `annota agree` produces.
public struct AgreeResult: Sendable {
  /// Writes the consensus COCO document, compact JSON (UTF-8), handing it to `emit` in pieces
  /// of about a megabyte, in order.
  public var writeConsensus: @Sendable (_ emit: (UnsafeRawBufferPointer) -> Void) -> Void
  /// Writes the report (`README`'s schema) the same way.
  public var writeReport: @Sendable (_ emit: (UnsafeRawBufferPointer) -> Void) -> Void
  /// Makes the review/escalate queue as CSV (only when asked for: a tenth of a second over a
  /// COCO-sized dataset).
  public var makeQueueCSV: @Sendable () -> String
  /// The review/escalate queue as CSV.
  public var queueCSV: String { makeQueueCSV() }
  /// Per-image failures (images missing in some files, sizes that disagree, bad shapes).
  public var issues: [COCOIssue]
  public var tiers: [Tier: Int]
}

/// `annota agree`: instance matching across N annotators, tiers, fused shapes, statistics.
public enum AgreementRun {
  /// Per-image results, also the sufficient statistics for the dataset figures and bootstrap.
  struct ImageResult: Sendable {
    var imageID: Int64
    var objects: [ObjectResult] = []
    /// Per annotator pair (a < b, canonical indices): sum and count of matched IoU and Dice.
    var pairIoU: [[Double]]
    var pairDice: [[Double]]
    var pairCount: [[Int]]
    /// Fleiss rows of clusters present for every annotator: (Σ n_ij² − n) / (n(n−1)) and labels.
    var fleissP: [Double] = []
    var fleissLabels: [[Int64?]] = []
    /// Krippendorff units (clusters with ≥ 2 members): their labels.
    var alphaUnits: [[Int64?]] = []
    /// Labels of the two annotators on clusters both labelled (for Cohen's kappa when N = 2).
    var cohen: [(Int64?, Int64?)] = []
    /// Gold comparison per annotator (canonical): matched, annotator objects, gold objects,
    /// IoU sum, label agreements.
    var gold: [[Double]] = []
  }

  struct ObjectResult: Sendable {
    var members: [Int64?]  // canonical annotator → annotation id
    var labels: [Int64?]
    var decision: Decision
    var box: Box?
    /// The consensus mask as it is written: size, compressed counts as a JSON string literal
    /// (`RLE.jsonLiteral`: a fraction of the counts' memory, and all the output needs) and area.
    var mask: (height: Int, width: Int, countsLiteral: [UInt8], area: Int)?
    /// Per canonical annotator: IoU of its member with the consensus shape.
    var iouWithConsensus: [Double?]
    var needsAnother: Bool
  }

  /// Matches, decides and fuses every image of the annotators' files, and computes the figures.
  ///
  /// The datasets are freed once every image is processed (when the caller holds no other
  /// reference to them): their shapes are no longer needed, and the memory serves the outputs.
  public static func run(
    files: [String], datasets: consuming [COCODataset], gold: COCODataset?, options: AgreeOptions,
    runner: BatchRunner, progress: ProgressReporter? = nil
  ) async -> AgreeResult {
    // Canonical order: by path, so that clusters do not depend on the order files were given.
    let canonical = files.indices.sorted { files[$0] < files[$1] }
    var sets = canonical.map { datasets[$0] }
    let names = canonical.map { files[$0] }
    var imageIDs = Set<Int64>()
    for d in sets {
      for image in d.images { imageIDs.insert(image.id) }
      // By index: a key path's `map` copies every annotation (a retain and a 160-byte copy each).
      for k in d.annotations.indices { imageIDs.insert(d.annotations[k].imageID) }
    }
    let order = imageIDs.sorted()
    var groups = sets.map { Dictionary(uniqueKeysWithValues: $0.annotationIndicesByImage()) }
    let goldGroups = gold.map { Dictionary(uniqueKeysWithValues: $0.annotationsByImage()) }

    var results: [ImageResult] = []
    var issues: [COCOIssue] = []
    let scratch = RasterizerScratchPool()
    await runner.forEach(order, { [sets, groups] imageID in
      try scratch.withScratch { scratch throws(COCOIssue) in
        try processImage(imageID, sets: sets, names: names, groups: groups, gold: gold,
                         goldGroups: goldGroups, options: options, scratch: scratch)
      }
    }) { index, outcome in
      switch outcome {
      case .success(let r): results.append(r)
      case .failure(let error as COCOIssue): issues.append(error)
      case .failure(let error):
        issues.append(COCOIssue(path: "image \(order[index])", message: "\(error)"))
      }
      progress?.advance(failed: (try? outcome.get()) == nil)
    }
    let firstDocument = datasets[0].document
    (datasets, sets, groups) = ([], [], [])
    return await assemble(results, issues: issues, files: files, canonical: canonical, gold: gold != nil,
                          options: options, firstDocument: firstDocument, concurrent: runner.maxConcurrency > 1)
  }

  // MARK: One image

  /// One annotator's objects in one image: the fields the decisions read, taken once from the
  /// annotations at `positions` in the file (the per-image groups hold no copies of the
  /// annotations).
  struct ImageObjects {
    var ids: [Int64] = [], categories: [Int64?] = [], scores: [Double?] = []

    var count: Int { ids.count }
    var isEmpty: Bool { ids.isEmpty }

    init(_ annotations: UnsafeBufferPointer<COCOAnnotation>, positions: [Int]) {
      ids.reserveCapacity(positions.count)
      categories.reserveCapacity(positions.count)
      scores.reserveCapacity(positions.count)
      for k in positions {
        ids.append(annotations[k].id)
        categories.append(annotations[k].categoryID)
        scores.append(annotations[k].score)
      }
    }
  }

  static func processImage(
    _ imageID: Int64, sets: [COCODataset], names: [String], groups: [[Int64: [Int]]],
    gold: COCODataset?, goldGroups: [Int64: [COCOAnnotation]]?, options: AgreeOptions,
    scratch: RasterizerScratch
  ) throws(COCOIssue) -> ImageResult {
    let n = sets.count
    // The image must be in every file, with one size.
    var size: (Int, Int)?
    // By index, the fields in place: a `for` over the datasets, or a `let` of an image, copies it
    // (a retain per array or string in it).
    for a in sets.indices {
      guard let i = sets[a].imageIndex[imageID] else {
        throw COCOIssue(path: "image \(imageID)", message: "image \(imageID) is missing from \(names[a])")
      }
      let (width, height) = (sets[a].images[i].width, sets[a].images[i].height)
      if let s = size, s != (width, height) {
        throw COCOIssue(path: "images[\(sets[a].images[i].index)]",
                        message: "image \(imageID) is \(width)x\(height) in \(names[a]) but \(s.0)x\(s.1) in \(names[0])")
      }
      size = (width, height)
    }
    guard let (imageWidth, imageHeight) = size else { preconditionFailure("agree needs annotators") }
    let imageSize = (height: imageHeight, width: imageWidth)
    // Shapes, read in place through the annotations' buffer: an array subscript (or a `for`
    // over the array) copies the whole annotation, 160 bytes and a retain, for each field read.
    var objects: [ImageObjects] = []
    var boxes: [[Box]] = []
    // Masks as intervals (polygons never become counts; STAPLE rebuilds the few it fuses).
    var maskSets: [RLESet] = []
    if options.kind == .mask {
      // Every shape's storage touched first, all at once (the misses overlap), then rasterized.
      var touched = 0
      for a in sets.indices {
        sets[a].annotations.withUnsafeBufferPointer { all in
          for k in groups[a][imageID] ?? [] { touched &+= all[k].touchPolygonStorage }
        }
      }
      if touched < 0 { preconditionFailure() }  // never (a sum of 0s and 1s): keeps the reads
    }
    for a in sets.indices {
      let positions = groups[a][imageID] ?? []
      // The position of an annotation without the shape asked for, if any.
      var lacking: Int?
      sets[a].annotations.withUnsafeBufferPointer { all in
        objects.append(ImageObjects(all, positions: positions))
        switch options.kind {
        case .box:
          var row: [Box] = []
          row.reserveCapacity(positions.count)
          for k in positions {
            guard let b = all[k].bbox else { lacking = k; return }
            row.append(b)
          }
          boxes.append(row)
        case .mask:
          var intervals: [[Int]] = [], areas: [Int] = [], rowBoxes: [Box] = []
          intervals.reserveCapacity(positions.count)
          areas.reserveCapacity(positions.count)
          rowBoxes.reserveCapacity(positions.count)
          var size = (height: 0, width: 0)
          for k in positions {
            // Every object's image is this image, whose size is known to be the same in every file.
            guard let m = (all.baseAddress! + k).pointee.maskIntervals(imageHeight: imageSize.height, imageWidth: imageSize.width, scratch: scratch) else {
              lacking = k
              return
            }
            size = (m.height, m.width)  // the image's (an RLE's size is checked against it on reading)
            intervals.append(m.intervals)
            areas.append(m.area)
            rowBoxes.append(m.box)
          }
          maskSets.append(RLESet(height: size.height, width: size.width, intervals: intervals, areas: areas, boxes: rowBoxes))
        }
      }
      if let k = lacking {
        let annotation = sets[a].annotations[k]
        let field = options.kind == .box ? "bbox" : "segmentation"
        throw COCOIssue(path: annotation.path + "." + field, annotationID: annotation.id,
                        message: "no \(field) (in \(names[a]))")
      }
    }
    // Mask overlaps per annotator pair (a < b): IoU for matching and Dice for the links, from one
    // interval walk per pair. Pairs that cannot reach the threshold are not walked (they read 0):
    // the matching drops them whatever their IoU, and the few that end up in one cluster are
    // walked below, before the decisions use them.
    var overlaps = [[[[Int]]]](repeating: [[[Int]]](repeating: [], count: n), count: n)
    func maskIoU(_ a: Int, _ i: Int, _ b: Int, _ j: Int, intersection: Int) -> Double {
      if options.matchByLabel && objects[a].categories[i] != objects[b].categories[j] { return 0 }
      return maskSets[a].iou(i, maskSets[b], j, intersection: intersection)
    }
    func iouMatrix(_ a: Int, _ b: Int) -> [[Double]] {
      var m: [[Double]]
      switch options.kind {
      case .box:
        m = Box.iouMatrix(boxes[a], boxes[b])
        if options.matchByLabel {
          for i in m.indices {
            for j in m[i].indices where objects[a].categories[i] != objects[b].categories[j] { m[i][j] = 0 }
          }
        }
      case .mask:
        let o = maskSets[a].intersectionMatrix(maskSets[b], iouAtLeast: options.threshold)
        overlaps[a][b] = o
        m = o.indices.map { i in o[i].indices.map { j in maskIoU(a, i, b, j, intersection: o[i][j]) } }
      }
      return m
    }
    func diceOf(_ x: Member, _ y: Member) -> Double {
      switch options.kind {
      case .box: return boxes[x.annotator][x.object].dice(boxes[y.annotator][y.object])
      case .mask:
        // From the overlap found while matching (x's annotator is the lower one of a link).
        let (p, q) = x.annotator < y.annotator ? (x, y) : (y, x)
        return maskSets[p.annotator].dice(p.object, maskSets[q.annotator], q.object,
                                          intersection: overlaps[p.annotator][q.annotator][p.object][q.object])
      }
    }
    var similarity = ImageSimilarity(counts: objects.map(\.count), similarity: iouMatrix)
    let (clusters, links) = Clustering.cluster(similarity, threshold: options.threshold)
    if options.kind == .mask {
      // The exact overlap of every two members of a cluster (those not linked directly may have
      // been skipped as under the threshold).
      for cluster in clusters {
        for x in cluster.members {
          for y in cluster.members where x.annotator < y.annotator && overlaps[x.annotator][y.annotator][x.object][y.object] == 0 {
            let exact = maskSets[x.annotator].intersectionArea(x.object, maskSets[y.annotator], y.object)
            if exact == 0 { continue }
            overlaps[x.annotator][y.annotator][x.object][y.object] = exact
            similarity.setIoU(x, y, maskIoU(x.annotator, x.object, y.annotator, y.object, intersection: exact))
          }
        }
      }
    }

    var result = ImageResult(
      imageID: imageID,
      pairIoU: Array(repeating: Array(repeating: 0, count: n), count: n),
      pairDice: Array(repeating: Array(repeating: 0, count: n), count: n),
      pairCount: Array(repeating: Array(repeating: 0, count: n), count: n))
    for link in links {
      result.pairIoU[link.a.annotator][link.b.annotator] += link.iou
      result.pairDice[link.a.annotator][link.b.annotator] += diceOf(link.a, link.b)
      result.pairCount[link.a.annotator][link.b.annotator] += 1
    }
    let categories = objects.map(\.categories)
    let ids = objects.map(\.ids)
    func label(_ m: Member) -> Int64? { categories[m.annotator][m.object] }

    for cluster in clusters {
      let decision = Decision.decide(cluster, label: label, annotators: n, similarity: similarity,
                                     threshold: options.threshold)
      let voters = decision.tier == .escalate ? cluster.members : decision.agreeing
      var object = ObjectResult(
        members: (0..<n).map { a in cluster.member(of: a).map { ids[a][$0.object] } },
        labels: (0..<n).map { a in cluster.member(of: a).map(label) ?? nil },
        decision: decision, box: nil, mask: nil, iouWithConsensus: Array(repeating: nil, count: n),
        needsAnother: decision.tier != .accept)
      if let minScore = options.minScore {
        for m in cluster.members where (objects[m.annotator].scores[m.object] ?? 1) < minScore { object.needsAnother = true }
      }
      switch options.kind {
      case .box:
        let shapes = voters.map { boxes[$0.annotator][$0.object] }
        let weights = options.weightByScore ? voters.map { objects[$0.annotator].scores[$0.object] ?? 1 } : nil
        let fused = Fusion.fuse(shapes, weights: weights, method: options.boxFusion)
        object.box = fused
        for m in cluster.members { object.iouWithConsensus[m.annotator] = boxes[m.annotator][m.object].iou(fused) }
      case .mask:
        // The members' intervals and areas are prepared already: the vote merges their
        // intervals and finds each voter's overlap with the result on the way; its result goes
        // straight to its string, area and box (no counts are built). A member outside the
        // voters is compared with it through a one-mask set, one interval walk.
        let fusedSet: () -> RLESet
        let area: Int
        var voterOverlaps: [Int]?
        if options.maskFusion == .staple && voters.count > 1 {
          let set = RLESet([Fusion.staple(voters.map { maskSets[$0.annotator].mask($0.object) }).mask])
          let fused = set.masks[0]
          var counts = fused.compressedString
          object.mask = (fused.height, fused.width, counts.withUTF8(RLE.jsonLiteral), set.areas[0])
          object.box = set.boxes[0]
          area = set.areas[0]
          fusedSet = { set }
        } else {
          let (h, w) = maskSets[voters[0].annotator].size(of: voters[0].object)
          let lists = voters.map { maskSets[$0.annotator].intervals(of: $0.object) }
          // The result is summarised in its temporary storage; it becomes an array only when a
          // member is outside the voters (one outvoted in a review), to be compared with it.
          let outsider = cluster.members.contains { !voters.contains($0) }
          let (summary, overlaps, kept) = Fusion.withVoteAndOverlaps(intervals: lists) { intervals, overlaps in
            (RLE.jsonSummary(ofIntervals: intervals, height: h, width: w), overlaps, outsider ? Array(intervals) : [])
          }
          object.mask = (h, w, summary.compressedLiteral, summary.area)
          object.box = summary.box
          area = summary.area
          fusedSet = { RLESet(height: h, width: w, intervals: [kept], areas: [summary.area], boxes: [summary.box]) }
          voterOverlaps = overlaps
        }
        for m in cluster.members {
          let set = maskSets[m.annotator]
          let i = voters.firstIndex(of: m).flatMap { voterOverlaps?[$0] } ?? set.intersectionArea(m.object, fusedSet(), 0)
          object.iouWithConsensus[m.annotator] = i == 0 ? 0 : Double(i) / Double(set.areas[m.object] + area - i)
        }
      }
      if cluster.members.count == n {
        result.fleissLabels.append(object.labels)
      }
      if cluster.members.count >= 2 {
        result.alphaUnits.append(cluster.members.map(label))
      }
      if n == 2 && cluster.members.count == 2 { result.cohen.append((object.labels[0], object.labels[1])) }
      result.objects.append(object)
    }

    // Gold: each annotator against the gold file, class-agnostic matching.
    if let gold, let goldObjects = goldGroups?[imageID] ?? (gold.imageIndex[imageID] != nil ? [] : nil) {
      var goldBoxes: [Box] = []
      var goldMasks: [RLE] = [], goldMaskBoxes: [Box] = []
      for o in goldObjects {
        switch options.kind {
        case .box:
          guard let b = o.bbox else { throw COCOIssue(path: "gold " + o.path + ".bbox", annotationID: o.id, message: "no bbox") }
          goldBoxes.append(b)
        case .mask:
          guard let (m, box) = try gold.maskWithBox(of: o) else {
            throw COCOIssue(path: "gold " + o.path + ".segmentation", annotationID: o.id, message: "no segmentation")
          }
          goldMasks.append(m)
          goldMaskBoxes.append(box)
        }
      }
      let goldSet = RLESet(goldMasks, boxes: goldMaskBoxes)
      for a in 0..<n {
        let matrix = options.kind == .box ? Box.iouMatrix(boxes[a], goldBoxes) : maskSets[a].iouMatrix(goldSet)
        let pairs = objects[a].isEmpty || goldObjects.isEmpty ? [] : Assignment.match(similarity: matrix, threshold: options.threshold)
        var iouSum = 0.0, labelsAgree = 0.0
        for (i, j) in pairs {
          iouSum += matrix[i][j]
          if objects[a].categories[i] == goldObjects[j].categoryID { labelsAgree += 1 }
        }
        result.gold.append([Double(pairs.count), Double(objects[a].count), Double(goldObjects.count), iouSum, labelsAgree])
      }
    }
    return result
  }

  // MARK: Dataset figures

  /// Sufficient statistics of one image for the dataset figures.
  struct Stats {
    var iouSum = 0.0, diceSum = 0.0, pairs = 0
    var fleissPSum = 0.0, fleissSubjects = 0
    var alphaN = 0.0, alphaDiagonal = 0.0
    /// Per label, the Fleiss and alpha vote totals (each label once, in no particular order:
    /// totals of whole votes, exact in any order).
    var labelTotals: [(label: Int64?, fleiss: Double, alpha: Double)] = []

    /// Adds votes for `label` to its totals (a linear search: an image has a few labels).
    mutating func addLabel(_ label: Int64?, fleiss: Double, alpha: Double) {
      if let i = labelTotals.firstIndex(where: { $0.label == label }) {
        labelTotals[i].fleiss += fleiss
        labelTotals[i].alpha += alpha
      } else {
        labelTotals.append((label, fleiss, alpha))
      }
    }

    /// The statistics of every image, and of the dataset (with `total`'s label totals indexed
    /// by `totalIndex`), in one pass: each image's sums from 0, the dataset's term after term in
    /// the order of the results, so that its figures do not depend on how the images are grouped.
    static func gather(_ results: [ImageResult], raters n: Int) -> (total: Stats, perImage: [Stats]) {
      var total = Stats()
      var totalIndex: [Int64?: Int] = [:]
      var perImage: [Stats] = []
      perImage.reserveCapacity(results.count)
      // A cluster's votes, counted per label: a few pairs in a reused array.
      var counts: [(label: Int64?, count: Int)] = []
      // By index (a `for` over the results copies each one: a retain per array in it).
      for k in results.indices {
        var s = Stats()
        for a in 0..<n {
          for b in 0..<n {
            total.iouSum += results[k].pairIoU[a][b]
            s.iouSum += results[k].pairIoU[a][b]
            total.diceSum += results[k].pairDice[a][b]
            s.diceSum += results[k].pairDice[a][b]
            s.pairs += results[k].pairCount[a][b]
          }
        }
        for labels in results[k].fleissLabels {
          Stats.count(labels, into: &counts)
          var squares = 0
          for vote in counts { squares += vote.count * vote.count }
          let p = Double(squares - n) / Double(n * (n - 1))
          total.fleissPSum += p
          s.fleissPSum += p
          s.fleissSubjects += 1
          for vote in counts { s.addLabel(vote.label, fleiss: Double(vote.count), alpha: 0) }
        }
        for unit in results[k].alphaUnits {
          let m = Double(unit.count)
          Stats.count(unit, into: &counts)
          total.alphaN += m
          s.alphaN += m
          // In label order (`count` sorts them): floating-point sums must not depend on the order
          // votes come in, or the figures would differ in the last bit.
          for vote in counts {
            let c = Double(vote.count)
            let term = c * (c - 1) / (m - 1)
            total.alphaDiagonal += term
            s.alphaDiagonal += term
            s.addLabel(vote.label, fleiss: 0, alpha: c)
          }
        }
        total.pairs += s.pairs
        total.fleissSubjects += s.fleissSubjects
        for t in s.labelTotals {
          if let k = totalIndex[t.label] {
            total.labelTotals[k].fleiss += t.fleiss
            total.labelTotals[k].alpha += t.alpha
          } else {
            totalIndex[t.label] = total.labelTotals.count
            total.labelTotals.append(t)
          }
        }
        perImage.append(s)
      }
      return (total, perImage)
    }

    /// The pairwise IoU and Dice sums alone (all a per-image mean IoU needs).
    mutating func addPairs(_ r: ImageResult, raters n: Int) {
      for a in 0..<n {
        for b in 0..<n {
          iouSum += r.pairIoU[a][b]
          diceSum += r.pairDice[a][b]
          pairs += r.pairCount[a][b]
        }
      }
    }

    /// The distinct labels of `labels` with their counts, in `labelOrder`.
    static func count(_ labels: [Int64?], into counts: inout [(label: Int64?, count: Int)]) {
      counts.removeAll(keepingCapacity: true)
      for label in labels {
        if let i = counts.firstIndex(where: { $0.label == label }) {
          counts[i].count += 1
        } else {
          counts.append((label, 1))
        }
      }
      counts.sort { labelOrder($0.label, $1.label) }
    }

    /// A fixed order of labels (nil first) for order-independent floating-point sums.
    static func labelOrder(_ a: Int64?, _ b: Int64?) -> Bool { (a ?? Int64.min) < (b ?? Int64.min) }

    /// The figures; labels with only Fleiss or only alpha votes add exactly 0 to the other's sums.
    func figures(raters n: Int) -> (iou: Double?, dice: Double?, kappa: Double?, alpha: Double?) {
      let sorted = labelTotals.sorted { Stats.labelOrder($0.label, $1.label) }
      let fleiss = sorted.map(\.fleiss), alpha = sorted.map(\.alpha)
      return Stats.figures(
        raters: n, iouSum: iouSum, diceSum: diceSum, pairs: pairs, fleissPSum: fleissPSum,
        fleissSubjects: fleissSubjects, fleissTotals: fleiss, alphaN: alphaN,
        alphaDiagonal: alphaDiagonal, alphaTotals: alpha)
    }

    /// The figures from sums, with the label totals given in `labelOrder`. Zero totals may be
    /// included (the bootstrap passes every label): they add exactly 0 to every sum.
    static func figures(
      raters n: Int, iouSum: Double, diceSum: Double, pairs: Int, fleissPSum: Double,
      fleissSubjects: Int, fleissTotals: [Double], alphaN: Double, alphaDiagonal: Double,
      alphaTotals: [Double]
    ) -> (iou: Double?, dice: Double?, kappa: Double?, alpha: Double?) {
      let iou = pairs > 0 ? iouSum / Double(pairs) : nil
      let dice = pairs > 0 ? diceSum / Double(pairs) : nil
      var kappa: Double?
      if fleissSubjects > 0 && n >= 2 {
        let pBar = fleissPSum / Double(fleissSubjects)
        var pe = 0.0
        for total in fleissTotals {
          let p = total / (Double(fleissSubjects) * Double(n))
          pe += p * p
        }
        kappa = pe < 1 ? (pBar - pe) / (1 - pe) : nil
      }
      var alpha: Double?
      let squares = alphaTotals.reduce(0) { $0 + $1 * $1 }
      let expected = alphaN * alphaN - squares
      if expected > 0 && alphaN > 1 {
        alpha = 1 - (alphaN - 1) * (alphaN - alphaDiagonal) / expected
      }
      return (iou, dice, kappa, alpha)
    }
  }

  /// Bootstrap resamples over images: the figures of `resamples` draws of `perImage.count` images
  /// with replacement (SplitMix64 from `seed`, image `next() % count`). Label totals live in
  /// dense arrays indexed in `labelOrder`, so a resample costs O(images + label entries) without
  /// hashing, and its sums run over the images in order (the figures do not depend on the order
  /// of the draws, only on how often each image was drawn).
  static func bootstrap(_ perImage: [Stats], raters n: Int, resamples: Int, seed: UInt64) -> [[Double]] {
    var labels = Set<Int64?>()
    for p in perImage { for t in p.labelTotals { labels.insert(t.label) } }
    let order = labels.sorted(by: Stats.labelOrder)
    let index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
    // A resample is a count per image (how often it was drawn), and each of its sums is the
    // per-image values weighted by those counts: one pass in image order instead of a gather per
    // draw. Per-image values as columns; label totals as per-label lists of (image, Fleiss total,
    // alpha total), label l's entries at labelStart[l] ..< labelStart[l + 1]. A label present in
    // only one of the two totals adds exactly 0 to the other.
    let m = perImage.count
    let columns: [[Double]] = [
      perImage.map(\.iouSum), perImage.map(\.diceSum), perImage.map { Double($0.pairs) },
      perImage.map(\.fleissPSum), perImage.map { Double($0.fleissSubjects) }, perImage.map(\.alphaN),
      perImage.map(\.alphaDiagonal),
    ]
    var byLabel = [[(image: Int, fleiss: Double, alpha: Double)]](repeating: [], count: order.count)
    for (i, p) in perImage.enumerated() {
      for t in p.labelTotals { byLabel[index[t.label]!].append((i, t.fleiss, t.alpha)) }
    }
    let labelStart = byLabel.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    let entries = byLabel.flatMap { $0 }
    // The label totals are whole votes, and so are the draw counts: their products and sums are
    // integers, added here in integer arithmetic (exact in any order, so the figures are those of
    // adding doubles in any order: below 2^53 those sums are exact too). A label's two totals
    // share one 64-bit word, alpha's in the high half, when no sum can carry out of the low half
    // (every image drawn at most m times in all: m times the largest total stays under 2^31).
    let entryImage = entries.map { Int32($0.image) }
    let entryFleiss = entries.map { Int($0.fleiss) }, entryAlpha = entries.map { Int($0.alpha) }
    for k in entries.indices {
      precondition(entryFleiss[k] >= 0 && entryAlpha[k] >= 0 && Double(entryFleiss[k]) == entries[k].fleiss
        && Double(entryAlpha[k]) == entries[k].alpha, "label totals are counts of votes")
    }
    let packs = Double(m) * Double(max(entryFleiss.max() ?? 0, entryAlpha.max() ?? 0)) < 0x7FFF_FFFF
    let entryPacked = packs ? zip(entryFleiss, entryAlpha).map { $0 | $1 << 32 } : []
    let flat = columns.flatMap { $0 }  // column j at j * m

    var rng = SplitMix64(seed: seed)
    let images = FixedDivisor(UInt64(max(m, 1)))
    var samples: [[Double]] = [[], [], [], []]
    var fleissTotals = [Double](repeating: 0, count: order.count)
    var alphaTotals = [Double](repeating: 0, count: order.count)
    var draws = [Int32](repeating: 0, count: m)  // (half the cache of Int: they are read at random)
    var counts = [Double](repeating: 0, count: m)
    var sums = [Double](repeating: 0, count: columns.count)
    for _ in 0..<resamples {
      draws.withUnsafeMutableBufferPointer { draws in
        draws.update(repeating: 0)
        for _ in 0..<m { draws[Int(images.remainder(rng.next()))] &+= 1 }
        // Two partial sums per label (alternate entries), so that the additions do not all wait
        // on one another.
        entryImage.withUnsafeBufferPointer { entryImage in
          for l in order.indices {
            var k = labelStart[l]
            let end = labelStart[l + 1]
            if packs {
              entryPacked.withUnsafeBufferPointer { packed in
                var even = 0, odd = 0
                while k + 2 <= end {
                  even &+= Int(draws[Int(entryImage[k])]) &* packed[k]
                  odd &+= Int(draws[Int(entryImage[k + 1])]) &* packed[k + 1]
                  k += 2
                }
                if k < end { even &+= Int(draws[Int(entryImage[k])]) &* packed[k] }
                let total = even &+ odd
                fleissTotals[l] = Double(total & 0xFFFF_FFFF)
                alphaTotals[l] = Double(total >> 32)
              }
            } else {
              var fleiss = 0, alpha = 0
              while k < end {
                let c = Int(draws[Int(entryImage[k])])
                fleiss &+= c &* entryFleiss[k]
                alpha &+= c &* entryAlpha[k]
                k += 1
              }
              fleissTotals[l] = Double(fleiss)
              alphaTotals[l] = Double(alpha)
            }
          }
        }
      }
      counts.withUnsafeMutableBufferPointer { counts in
        for i in 0..<m { counts[i] = Double(draws[i]) }
        // Four partial sums per column, so that the additions do not all wait on one another.
        flat.withUnsafeBufferPointer { flat in
          for j in sums.indices {
            let column = flat.baseAddress! + j * m
            var total = SIMD4<Double>()
            var i = 0
            while i + 4 <= m {
              total += SIMD4(counts[i], counts[i + 1], counts[i + 2], counts[i + 3])
                * SIMD4(column[i], column[i + 1], column[i + 2], column[i + 3])
              i += 4
            }
            while i < m {
              total[0] += counts[i] * column[i]
              i += 1
            }
            sums[j] = (total[0] + total[1]) + (total[2] + total[3])
          }
        }
      }
      let f = Stats.figures(
        raters: n, iouSum: sums[0], diceSum: sums[1], pairs: Int(sums[2]), fleissPSum: sums[3],
        fleissSubjects: Int(sums[4]), fleissTotals: fleissTotals, alphaN: sums[5],
        alphaDiagonal: sums[6], alphaTotals: alphaTotals)
      for (i, v) in [f.iou, f.dice, f.kappa, f.alpha].enumerated() { if let v { samples[i].append(v) } }
    }
    return samples
  }

  /// Bootstrap 95% intervals over images of the dataset figures (percentiles of the resamples),
  /// by figure name; empty without resamples.
  static func confidenceIntervals(_ perImage: [Stats], raters n: Int, options: AgreeOptions)
    -> [String: JSONValue]
  {
    var intervals: [String: JSONValue] = [:]
    guard options.bootstrap > 0 && !perImage.isEmpty else { return intervals }
    let samples = bootstrap(perImage, raters: n, resamples: options.bootstrap, seed: options.seed)
    for (i, key) in ["meanIoU", "meanDice", "fleissKappa", "krippendorffAlpha"].enumerated() {
      let sorted = samples[i].sorted()
      if sorted.count >= 2 {
        let lo = sorted[Int((Double(sorted.count - 1) * 0.025).rounded())]
        let hi = sorted[Int((Double(sorted.count - 1) * 0.975).rounded())]
        intervals[key] = .numbers([lo, hi], integral: false)
      } else {
        intervals[key] = .null
      }
    }
    return intervals
  }

  /// The report and consensus from the per-image results; `concurrent` lets the bootstrap run
  /// on another thread meanwhile.
  static func assemble(
    _ results: [ImageResult], issues: [COCOIssue], files: [String], canonical: [Int],
    gold: Bool, options: AgreeOptions, firstDocument: [(String, JSONValue)], concurrent: Bool
  ) async -> AgreeResult {
    let n = files.count
    // Report annotators in the user's order: user index u ↔ canonical index c.
    var userOf = [Int](repeating: 0, count: n)
    for (c, u) in canonical.enumerated() { userOf[c] = u }
    var canonicalOf = [Int](repeating: 0, count: n)
    for (c, u) in canonical.enumerated() { canonicalOf[u] = c }

    let (total, perImage) = Stats.gather(results, raters: n)
    let figures = total.figures(raters: n)

    // The bootstrap runs beside the rest when another thread is allowed (its result only goes
    // into the dataset figures at the end).
    let concurrentIntervals = concurrent
      ? Task { confidenceIntervals(perImage, raters: n, options: options) } : nil
    let serialIntervals = concurrent ? [:] : confidenceIntervals(perImage, raters: n, options: options)

    // Tiers and per-annotator statistics. (The documents and the queue are made from the results
    // when they are saved: see `writeReport`, `writeConsensus` and `queueCSV`.)
    var tiers: [Tier: Int] = [.accept: 0, .review: 0, .escalate: 0]
    var needsAnother: [JSONValue] = []
    var missed = [Int](repeating: 0, count: n), extra = [Int](repeating: 0, count: n)
    var labelDisagreements = [Int](repeating: 0, count: n), present = [Int](repeating: 0, count: n)
    var consensusIoUSum = [Double](repeating: 0, count: n), consensusIoUCount = [Int](repeating: 0, count: n)
    func num(_ v: Double?) -> JSONValue { v.map { .double($0) } ?? .null }
    for r in results.indices {
      var imageNeeds = false
      // Through the buffer, field by field: `for o in r.objects` copies each object (and `for r
      // in results` each result).
      results[r].objects.withUnsafeBufferPointer { objects in
        for k in objects.indices {
          let tier = objects[k].decision.tier, label = objects[k].decision.label
          tiers[tier, default: 0] += 1
          if objects[k].needsAnother { imageNeeds = true }
          // Per-annotator statistics.
          let memberCount = objects[k].members.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
          for c in 0..<n {
            let isPresent = objects[k].members[c] != nil
            if isPresent { present[c] += 1 }
            if tier != .escalate {
              if !isPresent { missed[c] += 1 }
              if isPresent && objects[k].labels[c] != label { labelDisagreements[c] += 1 }
              if let v = objects[k].iouWithConsensus[c] {
                consensusIoUSum[c] += v
                consensusIoUCount[c] += 1
              }
            } else if isPresent && 2 * memberCount <= n {
              extra[c] += 1
            }
          }
        }
      }
      if imageNeeds { needsAnother.append(.int(results[r].imageID)) }
    }

    // Pairwise matrices in the user's order.
    var pairIoU = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    var pairDice = pairIoU
    var pairCount = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
    for r in results.indices {
      for a in 0..<n {
        for b in 0..<n where results[r].pairCount[a][b] > 0 {
          let (ua, ub) = (userOf[a], userOf[b])
          @inline(__always) func add(_ x: Int, _ y: Int) {
            pairIoU[x][y] += results[r].pairIoU[a][b]
            pairDice[x][y] += results[r].pairDice[a][b]
            pairCount[x][y] += results[r].pairCount[a][b]
          }
          add(ua, ub)
          add(ub, ua)
        }
      }
    }
    func matrix(_ sums: [[Double]]) -> JSONValue {
      var rows: [JSONValue] = []
      for i in 0..<n {
        var row: [JSONValue] = []
        for j in 0..<n {
          if i == j {
            row.append(.double(1))
          } else if pairCount[i][j] > 0 {
            row.append(.double(sums[i][j] / Double(pairCount[i][j])))
          } else {
            row.append(.null)
          }
        }
        rows.append(.array(row))
      }
      return .array(rows)
    }

    var goldSums = [[Double]](repeating: [0, 0, 0, 0, 0], count: n)
    if gold { for r in results where !r.gold.isEmpty { for c in 0..<n { for k in 0..<5 { goldSums[c][k] += r.gold[c][k] } } } }
    let annotatorsJSON = JSONValue.array((0..<n).map { u in
      let c = canonicalOf[u]
      var fields: [(String, JSONValue)] = [
        ("file", .string(files[u])), ("objects", .int(Int64(present[c]))),
        ("meanIoUWithConsensus", consensusIoUCount[c] > 0 ? .double(consensusIoUSum[c] / Double(consensusIoUCount[c])) : .null),
        ("missed", .int(Int64(missed[c]))), ("extra", .int(Int64(extra[c]))),
        ("labelDisagreements", .int(Int64(labelDisagreements[c]))),
      ]
      if gold {
        let g = goldSums[c]
        fields.append(("gold", .object([
          ("matched", .int(Int64(g[0]))), ("precision", g[1] > 0 ? .double(g[0] / g[1]) : .null),
          ("recall", g[2] > 0 ? .double(g[0] / g[2]) : .null),
          ("meanIoU", g[0] > 0 ? .double(g[3] / g[0]) : .null), ("labelAccuracy", g[0] > 0 ? .double(g[4] / g[0]) : .null),
        ])))
      }
      return .object(fields)
    })

    var cohen: Double?
    if n == 2 {
      let pairs = results.flatMap(\.cohen)
      // Labels in canonical order; Cohen's kappa is symmetric in the raters.
      cohen = Agreement.cohenKappa(pairs.map { $0.0 ?? Int64.min }, pairs.map { $0.1 ?? Int64.min })
    }
    let objectCount = results.reduce(0) { $0 + $1.objects.count }
    let intervals = await concurrentIntervals?.value ?? serialIntervals
    let datasetJSON = JSONValue.object([
      ("annotators", .int(Int64(n))), ("images", .int(Int64(results.count))), ("failedImages", .int(Int64(issues.count))),
      ("objects", .int(Int64(objectCount))), ("matchedPairs", .int(Int64(total.pairs))),
      ("meanIoU", num(figures.iou)), ("meanDice", num(figures.dice)),
      ("fleissKappa", num(figures.kappa)), ("fleissSubjects", .int(Int64(total.fleissSubjects))),
      ("krippendorffAlpha", num(figures.alpha)), ("cohenKappa", num(cohen)),
      ("confidence95", .object(["meanIoU", "meanDice", "fleissKappa", "krippendorffAlpha"].map { ($0, intervals[$0] ?? .null) })),
      ("bootstrap", .object([("resamples", .int(Int64(options.bootstrap))), ("seed", .int(Int64(bitPattern: options.seed)))])),
      ("tiers", .object(Tier.allCases.map { ($0.rawValue, .int(Int64(tiers[$0] ?? 0))) })),
    ])
    // The report's small members, as values; its per-image and per-object entries are written
    // from the results.
    let head: [(String, JSONValue)] = [
      ("settings", .object([
        ("files", .array(files.map { .string($0) })), ("type", .string(options.kind.rawValue)),
        ("iou", .double(options.threshold)), ("matchByLabel", .bool(options.matchByLabel)),
        ("boxFusion", .string(options.boxFusion.rawValue)), ("maskFusion", .string(options.maskFusion.rawValue)),
      ])),
      ("dataset", datasetJSON),
      ("pairwise", .object([("iou", matrix(pairIoU)), ("dice", matrix(pairDice)),
                            ("matched", .array(pairCount.map { .numbers($0.map(Double.init), integral: true) }))])),
      ("annotators", annotatorsJSON),
      ("needsAnotherAnnotator", .array(needsAnother)),
    ]
    let issuesJSON = JSONValue.array(issues.map { .string($0.description) })
    let (order, users) = (canonicalOf, userOf)
    return AgreeResult(
      writeConsensus: { emit in
        writeConsensus(results, files: files, canonicalOf: order, firstDocument: firstDocument, emit)
      },
      writeReport: { emit in
        writeReport(results, head: head, issues: issuesJSON, files: files, canonicalOf: order, userOf: users, emit)
      },
      makeQueueCSV: { queueCSV(results, files: files, canonicalOf: order, userOf: users) },
      issues: issues, tiers: tiers)
  }

  /// The review/escalate queue: one CSV line per object not accepted, ids as in the report.
  static func queueCSV(_ results: [ImageResult], files: [String], canonicalOf: [Int], userOf: [Int]) -> String {
    let n = files.count
    var queue = "image_id,object,tier,score,label,members,reasons\n"
    var id: Int64 = 0
    for r in results {
      for o in r.objects {
        id += 1
        let d = o.decision
        if d.tier != .accept {
          let reasons = dissent(d, files: files, userOf: userOf)
          let memberText = (0..<n).map { u in o.members[canonicalOf[u]].map(String.init) ?? "-" }.joined(separator: " ")
          let reasonText = reasons.map { "\($0.0):\($0.1.rawValue)" }.joined(separator: " ")
          queue += "\(r.imageID),\(id),\(d.tier.rawValue),\(d.score),\(d.label.map(String.init) ?? ""),\(csvField(memberText)),\(csvField(reasonText))\n"
        }
      }
    }
    return queue
  }

  /// How many bytes a document's writer gathers before handing them on.
  static let writeChunk = 1 << 20

  /// A decision's dissenting annotators (their files) with the reasons, by file name.
  static func dissent(_ d: Decision, files: [String], userOf: [Int]) -> [(String, DissentReason)] {
    d.dissent.map { (files[userOf[$0.annotator]], $0.reason) }.sorted { $0.0 < $1.0 }
  }

  /// The report: `head`'s members, then `images` (one entry per image) and `objects` (one per
  /// cluster, ids from 1), then `issues`; compact JSON handed to `emit` in pieces.
  static func writeReport(
    _ results: [ImageResult], head: [(String, JSONValue)], issues: JSONValue, files: [String],
    canonicalOf: [Int], userOf: [Int], _ emit: (UnsafeRawBufferPointer) -> Void
  ) {
    let n = files.count
    var out = JSONBytes(capacity: writeChunk + 4096)
    for (i, (key, value)) in head.enumerated() {
      out.raw(i == 0 ? "{" : ",")
      out.key(escaping: key)
      out.value(value)
    }
    out.raw(","); out.key("images"); out.raw("[")
    for i in results.indices {
      // By index, the fields in place (a `for` over the results copies each one), and the tiers
      // counted in locals, not a dictionary per image.
      var (accept, review, escalate) = (0, 0, 0)
      for k in results[i].objects.indices {
        switch results[i].objects[k].decision.tier {
        case .accept: accept += 1
        case .review: review += 1
        case .escalate: escalate += 1
        }
      }
      var s = Stats()
      s.addPairs(results[i], raters: n)
      out.raw(i == 0 ? "{" : ",{")
      out.key("image_id"); out.int(results[i].imageID)
      out.raw(","); out.key("objects"); out.int(results[i].objects.count)
      out.raw(","); out.key("accept"); out.int(accept)
      out.raw(","); out.key("review"); out.int(review)
      out.raw(","); out.key("escalate"); out.int(escalate)
      out.raw(","); out.key("meanIoU"); out.double(s.figures(raters: n).iou)
      out.raw("}")
      out.flush(atLeast: writeChunk, emit)
    }
    out.raw("],"); out.key("objects"); out.raw("[")
    let fileKeys = files.map(JSONBytes.keyBytes)
    writeEntries(results, to: &out, emit) { _, o, out in
      out.raw(","); out.key("members"); writeMembers(o, fileKeys: fileKeys, canonicalOf: canonicalOf, to: &out)
      out.raw(","); out.key("labels")
      for u in 0..<n {
        out.raw(u == 0 ? "{" : ",")
        out.raw(fileKeys[u])
        out.int(o.pointee.labels[canonicalOf[u]])
      }
      out.raw("}")
      out.raw(","); out.key("label"); out.int(o.pointee.decision.label)
      out.raw(","); out.key("tier"); out.string(o.pointee.decision.tier.rawValue)
      out.raw(","); out.key("score"); out.double(o.pointee.decision.score)
      out.raw(","); out.key("reasons"); out.raw("[")
      for (k, reason) in dissent(o.pointee.decision, files: files, userOf: userOf).enumerated() {
        out.raw(k == 0 ? "{" : ",{")
        out.key("annotator"); out.string(reason.0)
        out.raw(","); out.key("reason"); out.string(reason.1.rawValue)
        out.raw("}")
      }
      out.raw("]")
    }
    out.raw("],"); out.key("issues"); out.value(issues)
    out.raw("}")
    out.bytes.withUnsafeBytes(emit)
  }

  /// Every cluster's entry of a list (the report's objects, the consensus annotations), ids
  /// from 1 in the order of the results: each opened with its id and image, filled by `body`,
  /// closed, and handed on once a piece is full.
  static func writeEntries(
    _ results: [ImageResult], to out: inout JSONBytes, _ emit: (UnsafeRawBufferPointer) -> Void,
    _ body: (ImageResult, UnsafePointer<ObjectResult>, inout JSONBytes) -> Void
  ) {
    var id: Int64 = 0
    for r in results {
      // Through a pointer: `for o in r.objects` copies each object (a retain per array in it).
      r.objects.withUnsafeBufferPointer { objects in
        for k in objects.indices {
          id += 1
          out.raw(id == 1 ? "{" : ",{")
          out.key("id"); out.int(id)
          out.raw(","); out.key("image_id"); out.int(r.imageID)
          body(r, objects.baseAddress! + k, &out)
          out.raw("}")
          out.flush(atLeast: writeChunk, emit)
        }
      }
    }
  }

  /// An object's members, `{"file": annotation id or null, ...}` in the user's order of files.
  static func writeMembers(_ o: UnsafePointer<ObjectResult>, fileKeys: [[UInt8]], canonicalOf: [Int], to out: inout JSONBytes) {
    for u in fileKeys.indices {
      out.raw(u == 0 ? "{" : ",")
      out.raw(fileKeys[u])
      out.int(o.pointee.members[canonicalOf[u]])
    }
    out.raw("}")
  }

  /// The consensus COCO document: the first file's licenses, images and categories, and one
  /// annotation per cluster (ids from 1, in the order of the report's objects) with its fused
  /// shape, tier, score and members; compact JSON handed to `emit` in pieces.
  static func writeConsensus(
    _ results: [ImageResult], files: [String], canonicalOf: [Int], firstDocument: [(String, JSONValue)],
    _ emit: (UnsafeRawBufferPointer) -> Void
  ) {
    var out = JSONBytes(capacity: writeChunk + 4096)
    out.raw("{"); out.key("info")
    out.value(.object([("description", .string("annota agree consensus")), ("sources", .array(files.map { .string($0) }))]))
    for key in ["licenses", "images", "categories"] {
      if let value = firstDocument.first(where: { $0.0 == key })?.1 {
        out.raw(","); out.key(escaping: key); out.value(value)
      }
    }
    out.raw(","); out.key("annotations"); out.raw("[")
    let fileKeys = files.map(JSONBytes.keyBytes)
    writeEntries(results, to: &out, emit) { _, o, out in
      // Field by field through the pointer (a `let` of the decision or the mask would copy it).
      out.raw(","); out.key("category_id"); out.int(o.pointee.decision.label)
      if o.pointee.mask != nil, let box = o.pointee.box {
        out.raw(","); out.key("segmentation")
        out.raw("{"); out.key("size"); out.raw("["); out.int(o.pointee.mask!.height); out.raw(",")
        out.int(o.pointee.mask!.width); out.raw("]")
        out.raw(","); out.key("counts"); out.raw(o.pointee.mask!.countsLiteral); out.raw("}")
        out.raw(","); out.key("area"); out.double(Double(o.pointee.mask!.area))
        // The box found when the consensus was built, not a second walk.
        out.raw(","); out.key("bbox"); out.box(box)
      } else if let box = o.pointee.box {
        out.raw(","); out.key("bbox"); out.box(box)
        out.raw(","); out.key("area"); out.double(box.area)
      }
      out.raw(","); out.key("iscrowd"); out.raw("0")
      out.raw(","); out.key("tier"); out.string(o.pointee.decision.tier.rawValue)
      out.raw(","); out.key("score"); out.double(o.pointee.decision.score)
      out.raw(","); out.key("members"); writeMembers(o, fileKeys: fileKeys, canonicalOf: canonicalOf, to: &out)
    }
    out.raw("]}")
    out.bytes.withUnsafeBytes(emit)
  }

  static func csvField(_ text: String) -> String {
    guard text.contains(",") || text.contains("\"") else { return text }
    var out = "\""
    for c in text { out += c == "\"" ? "\"\"" : String(c) }
    return out + "\""
  }
}
