import AnnotaGeometry

/// Whether `annota iou` compares boxes or masks.
public enum GeometryKind: String, Sendable, CaseIterable {
  case box
  case mask
}

/// One row of the pairs table: a matched pair, or an object of one side left unmatched.
public struct PairRow: Sendable, Hashable {
  public var imageID: Int64
  public var categoryID: Int64?
  public var a: Int64?
  public var b: Int64?
  /// IoU and Dice of a matched pair; `nil` for an unmatched object.
  public var iou: Double?
  public var dice: Double?
}

/// Totals over a whole comparison.
public struct PairSummary: Sendable {
  public var images = 0
  public var failedImages = 0
  public var matched = 0
  public var unmatchedA = 0
  public var unmatchedB = 0
  public var iouSum = 0.0
  public var diceSum = 0.0

  public init() {}

  public var meanIoU: Double { matched > 0 ? iouSum / Double(matched) : 0 }
  public var meanDice: Double { matched > 0 ? diceSum / Double(matched) : 0 }

  public var json: JSONValue {
    .object([
      ("images", .int(Int64(images))), ("failedImages", .int(Int64(failedImages))),
      ("matched", .int(Int64(matched))), ("unmatchedA", .int(Int64(unmatchedA))),
      ("unmatchedB", .int(Int64(unmatchedB))), ("meanIoU", .double(meanIoU)),
      ("meanDice", .double(meanDice)),
    ])
  }
}

/// `annota iou`: per image (and category), optimal one-to-one matching of A's objects to B's.
public enum Pairing {
  /// Options of a comparison.
  public struct Options: Sendable {
    public var kind: GeometryKind = .box
    /// Pairs with IoU under this are not matched.
    public var threshold = 0.5
    /// Match across categories (the row's category is A's, or B's for an unmatched B object).
    public var classAgnostic = false

    public init(kind: GeometryKind = .box, threshold: Double = 0.5, classAgnostic: Bool = false) {
      self.kind = kind
      self.threshold = threshold
      self.classAgnostic = classAgnostic
    }
  }

  /// Compares two datasets of the same images. B plays pycocotools' ground truth: its `iscrowd`
  /// objects use crowd IoU (intersection over A's area).
  ///
  /// Matching maximises the summed IoU over pairs with IoU ≥ threshold (Hungarian on 1 − IoU,
  /// pairs under the threshold costing as much as no match). Rows come per image in A's image
  /// order (then images only B has), per category in ascending id, matched pairs by A's file
  /// order, then unmatched A, then unmatched B.
  ///
  /// - Parameter deliver: receives each image's rows, or its error, in order.
  public static func run(
    _ a: COCODataset, _ b: COCODataset, options: Options, runner: BatchRunner,
    deliver: (Int64, Result<[PairRow], COCOIssue>) async -> Void
  ) async {
    let byImageA = a.annotationIndicesByImage(), byImageB = b.annotationIndicesByImage()
    let groupsA = Dictionary(uniqueKeysWithValues: byImageA)
    let groupsB = Dictionary(uniqueKeysWithValues: byImageB)
    var order: [Int64] = []
    var seen: Set<Int64> = []
    for id in a.images.map(\.id) + byImageA.map(\.0) + b.images.map(\.id) + byImageB.map(\.0)
    where seen.insert(id).inserted
    {
      order.append(id)
    }
    let scratch = RasterizerScratchPool()
    await runner.forEach(order, { imageID in
      try scratch.withScratch { scratch throws(COCOIssue) in
        try compareImage(imageID, groupsA[imageID] ?? [], groupsB[imageID] ?? [], a, b, options, scratch)
      }
    }) { index, result in
      switch result {
      case .success(let rows): await deliver(order[index], .success(rows))
      case .failure(let error as COCOIssue): await deliver(order[index], .failure(error))
      case .failure(let error):
        await deliver(order[index], .failure(COCOIssue(path: "image \(order[index])", message: "\(error)")))
      }
    }
  }

  /// One image's rows; `objectsA` and `objectsB` are its annotations' indices in `a` and `b`, in
  /// file order.
  static func compareImage(
    _ imageID: Int64, _ objectsA: [Int], _ objectsB: [Int], _ a: COCODataset, _ b: COCODataset,
    _ options: Options, _ scratch: RasterizerScratch
  ) throws(COCOIssue) -> [PairRow] {
    if options.kind == .mask, let ia = a.imageIndex[imageID].map({ a.images[$0] }),
      let ib = b.imageIndex[imageID].map({ b.images[$0] }),
      ia.width != ib.width || ia.height != ib.height
    {
      throw COCOIssue(path: "images[\(ia.index)]",
                      message: "image \(imageID) is \(ia.width)x\(ia.height) in A but \(ib.width)x\(ib.height) in B")
    }
    // The groups compared: one per category, in ascending id (objects without one first), or one
    // for all; each as positions in `objectsA` and `objectsB`, in file order.
    var groups: [(a: [Int], b: [Int])] = []
    if options.classAgnostic {
      groups = [(Array(objectsA.indices), Array(objectsB.indices))]
    } else {
      func byCategory(_ objects: [Int], _ dataset: COCODataset) -> [(key: Key, position: Int)] {
        objects.indices.map { (Key(dataset.annotations[objects[$0]].categoryID), $0) }
          .sorted { ($0.key, $0.position) < ($1.key, $1.position) }
      }
      let sortedA = byCategory(objectsA, a), sortedB = byCategory(objectsB, b)
      var i = 0, j = 0
      while i < sortedA.count || j < sortedB.count {
        let key = min(i < sortedA.count ? sortedA[i].key : .last, j < sortedB.count ? sortedB[j].key : .last)
        let endA = sortedA[i...].firstIndex { $0.key != key } ?? sortedA.count
        let endB = sortedB[j...].firstIndex { $0.key != key } ?? sortedB.count
        groups.append((sortedA[i..<endA].map(\.position), sortedB[j..<endB].map(\.position)))
        i = endA
        j = endB
      }
    }
    // Masks: each side's, once for the whole image.
    let masks = options.kind == .mask
      ? try imageMasks(objectsA, objectsB, groups: groups, a, b, scratch) : nil
    var rows: [PairRow] = []
    rows.reserveCapacity(objectsA.count + objectsB.count)
    for (groupA, groupB) in groups {
      let (iou, dice) = try similarity(groupA, groupB, objectsA, objectsB, a, b, masks, threshold: options.threshold)
      let pairs = Assignment.match(similarity: iou, threshold: options.threshold)
      var matchedA = [Bool](repeating: false, count: groupA.count)
      var matchedB = [Bool](repeating: false, count: groupB.count)
      for (i, j) in pairs {
        matchedA[i] = true
        matchedB[j] = true
        let objectA = a.annotations[objectsA[groupA[i]]]
        rows.append(PairRow(imageID: imageID, categoryID: objectA.categoryID, a: objectA.id,
                            b: b.annotations[objectsB[groupB[j]]].id, iou: iou[i][j], dice: dice(i, j)))
      }
      for (i, p) in groupA.enumerated() where !matchedA[i] {
        let object = a.annotations[objectsA[p]]
        rows.append(PairRow(imageID: imageID, categoryID: object.categoryID, a: object.id, b: nil, iou: nil, dice: nil))
      }
      for (j, q) in groupB.enumerated() where !matchedB[j] {
        let object = b.annotations[objectsB[q]]
        rows.append(PairRow(imageID: imageID, categoryID: object.categoryID, a: nil, b: object.id, iou: nil, dice: nil))
      }
    }
    return rows
  }

  /// A category as a group key: no category sorts first, then ids ascending.
  struct Key: Comparable {
    var hasCategory: Bool
    var id: Int64

    init(_ category: Int64?) {
      hasCategory = category != nil
      id = category ?? 0
    }

    private init(hasCategory: Bool, id: Int64) {
      self.hasCategory = hasCategory
      self.id = id
    }

    /// After every category.
    static let last = Key(hasCategory: true, id: .max)

    static func < (x: Key, y: Key) -> Bool { (x.hasCategory ? 1 : 0, x.id) < (y.hasCategory ? 1 : 0, y.id) }
  }

  /// The IoU matrix of a group, A × B (B's crowd rule), and the Dice of a pair, computed only for
  /// the pairs that are asked for (the matched ones). `groupA` and `groupB` are positions in
  /// `objectsA` and `objectsB` (indices of annotations of `a` and `b`); `masks`, the image's masks
  /// by those positions, or nil to compare boxes. For masks, IoUs under `threshold` may read 0
  /// (the matching drops them anyway).
  static func similarity(
    _ groupA: [Int], _ groupB: [Int], _ objectsA: [Int], _ objectsB: [Int], _ a: COCODataset,
    _ b: COCODataset, _ masks: (a: RLESet, b: RLESet)?, threshold: Double
  ) throws(COCOIssue) -> ([[Double]], (Int, Int) -> Double) {
    if groupA.isEmpty || groupB.isEmpty {
      return (Array(repeating: Array(repeating: 0, count: groupB.count), count: groupA.count), { _, _ in 0 })
    }
    let crowd = groupB.map { b.annotations[objectsB[$0]].isCrowd }
    guard let (setA, setB) = masks else {
      func boxes(_ group: [Int], _ objects: [Int], _ dataset: COCODataset) throws(COCOIssue) -> [Box] {
        var out: [Box] = []
        for p in group {
          let o = dataset.annotations[objects[p]]
          guard let box = o.bbox else {
            throw COCOIssue(path: o.path + ".bbox", annotationID: o.id, message: "no bbox")
          }
          out.append(box)
        }
        return out
      }
      let ba = try boxes(groupA, objectsA, a), bb = try boxes(groupB, objectsB, b)
      return (Box.iouMatrix(ba, bb, crowd: crowd), { i, j in ba[i].dice(bb[j]) })
    }
    // One interval walk per pair gives both IoU and (for the matched pairs) Dice. The matching
    // drops the pairs under the threshold whatever their IoU, so those that cannot reach it are
    // not walked (their IoU reads 0).
    let overlaps = groupA.map { p in
      groupB.indices.map { j in setA.intersectionArea(p, setB, groupB[j], iouAtLeast: threshold, crowd: crowd[j]) }
    }
    let iou = groupA.indices.map { i in
      groupB.indices.map { j in
        setA.iou(groupA[i], setB, groupB[j], intersection: overlaps[i][j], crowd: crowd[j])
      }
    }
    return (iou, { i, j in setA.dice(groupA[i], setB, groupB[j], intersection: overlaps[i][j]) })
  }

  /// Each side's masks of one image, as intervals (polygons never become counts), by position in
  /// `objectsA` and `objectsB`, all of the size of A's first checked mask.
  ///
  /// Only what a group's comparison can use is built. A polygon whose vertices keep it away from
  /// every object of the other side in its group is not rasterized: its IoU and Dice with each of
  /// them are 0 whatever its pixels, so it enters the set empty (RLE masks, and polygons without a
  /// proven bound, always count). An object whose group has nothing on the other side is not
  /// even looked at (it is unmatched whatever its mask).
  static func imageMasks(
    _ objectsA: [Int], _ objectsB: [Int], groups: [(a: [Int], b: [Int])], _ a: COCODataset,
    _ b: COCODataset, _ scratch: RasterizerScratch
  ) throws(COCOIssue) -> (a: RLESet, b: RLESet) {
    enum Use { case unused, empty, rasterized }
    var useA = [Use](repeating: .unused, count: objectsA.count)
    var useB = [Use](repeating: .unused, count: objectsB.count)
    typealias Bound = (x0: Int, y0: Int, x1: Int, y1: Int)
    func bound(_ o: COCOAnnotation) -> Bound? {
      switch o.segmentation {
      case .polygons(let polygon)?: return polygon.pixelBound()
      case .upsampledPolygons(let polygon)?: return polygon.pixelBound()
      default: return nil
      }
    }
    // The shapes' storage touched first, all at once (see `touchPolygonStorage`).
    var touched = 0
    a.annotations.withUnsafeBufferPointer { all in
      b.annotations.withUnsafeBufferPointer { allB in
        for (groupA, groupB) in groups where !groupA.isEmpty && !groupB.isEmpty {
          for p in groupA { touched &+= all[objectsA[p]].touchPolygonStorage }
          for q in groupB { touched &+= allB[objectsB[q]].touchPolygonStorage }
        }
      }
    }
    if touched < 0 { preconditionFailure() }  // never (a sum of 0s and 1s): keeps the reads
    for (groupA, groupB) in groups where !groupA.isEmpty && !groupB.isEmpty {
      let boundsA = groupA.map { bound(a.annotations[objectsA[$0]]) }
      let boundsB = groupB.map { bound(b.annotations[objectsB[$0]]) }
      func use(_ mine: Bound?, _ other: [Bound?]) -> Use {
        guard let mine else { return .rasterized }
        let near = other.contains { theirs in
          guard let theirs else { return true }
          return mine.x0 <= theirs.x1 && theirs.x0 <= mine.x1 && mine.y0 <= theirs.y1 && theirs.y0 <= mine.y1
        }
        return near ? .rasterized : .empty
      }
      for (p, mine) in zip(groupA, boundsA) { useA[p] = use(mine, boundsB) }
      for (q, mine) in zip(groupB, boundsB) { useB[q] = use(mine, boundsA) }
    }
    var size: (height: Int, width: Int)? = nil
    func masks(_ objects: [Int], _ dataset: COCODataset, _ side: String, _ uses: [Use]) throws(COCOIssue) -> RLESet {
      var intervals: [[Int]] = [], areas: [Int] = [], boxes: [Box] = []
      intervals.reserveCapacity(objects.count)
      areas.reserveCapacity(objects.count)
      boxes.reserveCapacity(objects.count)
      let none = Box(x: 0, y: 0, width: 0, height: 0)
      for (k, use) in zip(objects, uses) {
        if use == .unused {
          intervals.append([])
          areas.append(0)
          boxes.append(none)
          continue
        }
        let mask = use == .rasterized
          ? try dataset.maskIntervals(of: dataset.annotations[k], scratch: scratch)
          : try dataset.maskSize(of: dataset.annotations[k]).map { ($0.height, $0.width, [], 0, none) }
        guard let mask else {
          let o = dataset.annotations[k]
          throw COCOIssue(path: o.path + ".segmentation", annotationID: o.id, message: "no segmentation")
        }
        if size == nil { size = (mask.height, mask.width) }
        if let (h, w) = size, mask.height != h || mask.width != w {
          let o = dataset.annotations[k]
          throw COCOIssue(path: o.path + ".segmentation", annotationID: o.id,
                          message: "mask is \(mask.height)x\(mask.width) in \(side), but \(h)x\(w) for the first object of A")
        }
        intervals.append(mask.intervals)
        areas.append(mask.area)
        boxes.append(mask.box)
      }
      return RLESet(height: size?.height ?? 0, width: size?.width ?? 0, intervals: intervals, areas: areas, boxes: boxes)
    }
    let setA = try masks(objectsA, a, "A", useA)
    let setB = try masks(objectsB, b, "B", useB)
    return (setA, setB)
  }

  /// The CSV header of the pairs table.
  public static let csvHeader = "image_id,category_id,a_id,b_id,iou,dice\n"

  /// Appends one CSV line (doubles at full precision, as `description` writes them) to `out`.
  public static func appendCSVLine(_ row: PairRow, to out: inout [UInt8]) {
    func integer(_ value: Int64?) {
      if let value { out.append(contentsOf: String(value).utf8) }  // a small string: no allocation
    }
    func number(_ value: Double?) {
      if let value { out.append(contentsOf: value.description.utf8) }
    }
    let comma = UInt8(ascii: ",")
    integer(row.imageID)
    out.append(comma)
    integer(row.categoryID)
    out.append(comma)
    integer(row.a)
    out.append(comma)
    integer(row.b)
    out.append(comma)
    number(row.iou)
    out.append(comma)
    number(row.dice)
    out.append(UInt8(ascii: "\n"))
  }
}
