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
    var rows: [PairRow] = []
    rows.reserveCapacity(objectsA.count + objectsB.count)
    func compare(_ groupA: ArraySlice<Int>, _ groupB: ArraySlice<Int>) throws(COCOIssue) {
      let (iou, dice) = try similarity(groupA, groupB, a, b, options.kind, threshold: options.threshold, scratch)
      let pairs = Assignment.match(similarity: iou, threshold: options.threshold)
      var matchedA = [Bool](repeating: false, count: groupA.count)
      var matchedB = [Bool](repeating: false, count: groupB.count)
      for (i, j) in pairs {
        matchedA[i] = true
        matchedB[j] = true
        let objectA = a.annotations[groupA[groupA.startIndex + i]]
        rows.append(PairRow(imageID: imageID, categoryID: objectA.categoryID, a: objectA.id,
                            b: b.annotations[groupB[groupB.startIndex + j]].id, iou: iou[i][j], dice: dice(i, j)))
      }
      for (i, k) in groupA.enumerated() where !matchedA[i] {
        rows.append(PairRow(imageID: imageID, categoryID: a.annotations[k].categoryID, a: a.annotations[k].id,
                            b: nil, iou: nil, dice: nil))
      }
      for (j, k) in groupB.enumerated() where !matchedB[j] {
        rows.append(PairRow(imageID: imageID, categoryID: b.annotations[k].categoryID, a: nil,
                            b: b.annotations[k].id, iou: nil, dice: nil))
      }
    }
    if options.classAgnostic {
      try compare(objectsA[...], objectsB[...])
      return rows
    }
    // One group per category, in ascending id (objects without one first), each in file order.
    func byCategory(_ objects: [Int], _ dataset: COCODataset) -> [(key: Key, index: Int)] {
      objects.map { (Key(dataset.annotations[$0].categoryID), $0) }.sorted { ($0.key, $0.index) < ($1.key, $1.index) }
    }
    let sortedA = byCategory(objectsA, a), sortedB = byCategory(objectsB, b)
    var i = 0, j = 0
    while i < sortedA.count || j < sortedB.count {
      let key = min(i < sortedA.count ? sortedA[i].key : .last, j < sortedB.count ? sortedB[j].key : .last)
      let endA = sortedA[i...].firstIndex { $0.key != key } ?? sortedA.count
      let endB = sortedB[j...].firstIndex { $0.key != key } ?? sortedB.count
      try compare(sortedA[i..<endA].map(\.index)[...], sortedB[j..<endB].map(\.index)[...])
      i = endA
      j = endB
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

  /// The IoU matrix A × B (B's crowd rule), and the Dice of a pair, computed only for the pairs
  /// that are asked for (the matched ones). For masks, IoUs under `threshold` may read 0 (the
  /// matching drops them anyway). `objectsA` and `objectsB` are indices of annotations of `a`
  /// and `b`.
  static func similarity(
    _ objectsA: ArraySlice<Int>, _ objectsB: ArraySlice<Int>, _ a: COCODataset,
    _ b: COCODataset, _ kind: GeometryKind, threshold: Double, _ scratch: RasterizerScratch
  ) throws(COCOIssue) -> ([[Double]], (Int, Int) -> Double) {
    if objectsA.isEmpty || objectsB.isEmpty {
      return (Array(repeating: Array(repeating: 0, count: objectsB.count), count: objectsA.count), { _, _ in 0 })
    }
    let crowd = objectsB.map { b.annotations[$0].isCrowd }
    switch kind {
    case .box:
      func boxes(_ objects: ArraySlice<Int>, _ dataset: COCODataset) throws(COCOIssue) -> [Box] {
        var out: [Box] = []
        for k in objects {
          guard let box = dataset.annotations[k].bbox else {
            let o = dataset.annotations[k]
            throw COCOIssue(path: o.path + ".bbox", annotationID: o.id, message: "no bbox")
          }
          out.append(box)
        }
        return out
      }
      let ba = try boxes(objectsA, a), bb = try boxes(objectsB, b)
      return (Box.iouMatrix(ba, bb, crowd: crowd), { i, j in ba[i].dice(bb[j]) })
    case .mask:
      // A polygon whose vertices keep it away from every mask of the other side is not
      // rasterized: its IoU and Dice with each of them are 0 whatever its pixels, so it enters
      // the set empty (RLE masks, and polygons without a proven bound, always count).
      typealias Bound = (x0: Int, y0: Int, x1: Int, y1: Int)
      func bounds(_ objects: ArraySlice<Int>, _ dataset: COCODataset) -> [Bound?] {
        objects.map { k in
          if case .polygons(let polygon)? = dataset.annotations[k].segmentation { return polygon.pixelBound() }
          return nil
        }
      }
      let boundsA = bounds(objectsA, a), boundsB = bounds(objectsB, b)
      func needed(_ own: [Bound?], _ other: [Bound?]) -> [Bool] {
        own.map { mine in
          guard let mine else { return true }
          return other.contains { theirs in
            guard let theirs else { return true }
            return mine.x0 <= theirs.x1 && theirs.x0 <= mine.x1 && mine.y0 <= theirs.y1 && theirs.y0 <= mine.y1
          }
        }
      }
      // Each side's masks as intervals (polygons never become counts), all of A's first mask's
      // size.
      var size: (height: Int, width: Int)? = nil
      func masks(_ objects: ArraySlice<Int>, _ dataset: COCODataset, _ side: String, needed: [Bool])
        throws(COCOIssue) -> RLESet
      {
        var intervals: [[Int]] = [], areas: [Int] = [], boxes: [Box] = []
        intervals.reserveCapacity(objects.count)
        areas.reserveCapacity(objects.count)
        boxes.reserveCapacity(objects.count)
        for (k, isNeeded) in zip(objects, needed) {
          let mask = isNeeded
            ? try dataset.maskIntervals(of: dataset.annotations[k], scratch: scratch)
            : try dataset.maskSize(of: dataset.annotations[k]).map { ($0.height, $0.width, [], 0, Box(x: 0, y: 0, width: 0, height: 0)) }
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
        return RLESet(height: size!.height, width: size!.width, intervals: intervals, areas: areas, boxes: boxes)
      }
      let setA = try masks(objectsA, a, "A", needed: needed(boundsA, boundsB))
      let setB = try masks(objectsB, b, "B", needed: needed(boundsB, boundsA))
      // One interval walk per pair gives both IoU and (for the matched pairs) Dice. The matching
      // drops the pairs under the threshold whatever their IoU, so those that cannot reach it
      // are not walked (their IoU reads 0).
      let overlaps = setA.intersectionMatrix(setB, iouAtLeast: threshold, crowd: crowd)
      let iou = overlaps.indices.map { i in
        overlaps[i].indices.map { j in setA.iou(i, setB, j, intersection: overlaps[i][j], crowd: crowd[j]) }
      }
      return (iou, { i, j in setA.dice(i, setB, j, intersection: overlaps[i][j]) })
    }
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
