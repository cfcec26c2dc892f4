public import AnnotaDedup
import AnnotaGeometry
import AnnotaImage
import AnnotaImageIO
#if canImport(Glibc)
import Glibc
#endif

/// Which perceptual hash decides near-duplicates.
public enum DedupHash: String, Sendable, Hashable, CaseIterable {
  /// Difference hash (imagehash `dhash`).
  case dhash
  /// DCT hash (imagehash `phash`).
  case phash
  /// Both within the distance (searched on pHash, verified on dHash); the pair's distance is
  /// the larger of the two.
  case both
}

/// One image of the pool: where it is and, from a COCO file, its id.
public struct DedupItem: Sendable, Hashable {
  /// The file path (as read: relative to the working directory or absolute).
  public var path: String
  /// The COCO image id, when the pool came from a COCO file.
  public var imageID: Int64?

  /// An item at `path`, with its COCO image id if any.
  public init(path: String, imageID: Int64? = nil) {
    self.path = path
    self.imageID = imageID
  }
}

/// The hashes of one file.
public struct DedupRecord: Sendable, Hashable {
  /// XXH64 of the file's bytes.
  public var bytes: UInt64
  /// `PerceptualHash.pixelHash` of the full decode (only with `pixelHash` on).
  public var pixels: UInt64?
  /// Difference hash of the scaled grey decode.
  public var dhash: UInt64
  /// DCT hash of the scaled grey decode.
  public var phash: UInt64
  /// Full-resolution width from the header.
  public var width: Int
  /// Full-resolution height from the header.
  public var height: Int
  /// dHash of the 18 `PerceptualHash.cropWindows` (only with `crops` on).
  public var cropDhashes: [UInt64]?
  /// pHash of the 18 `PerceptualHash.cropWindows` (only with `crops` on).
  public var cropPhashes: [UInt64]?
  /// `PerceptualHash.sharpness` of the scaled grey decode.
  public var sharpness: Double
  /// File size in bytes (part of the cache key).
  public var fileSize: Int
  /// Modification time, ns since the epoch (part of the cache key).
  public var modified: Int64
}

/// Settings of a dedup run.
public struct DedupOptions: Sendable {
  /// The hash that decides near-duplicates.
  public var hash: DedupHash = .phash
  /// Largest Hamming distance of a near-duplicate pair.
  public var distance = 10
  /// Representative rule.
  public var keep: KeepRule = .first
  /// Also hash the full decode's pixels (an extra full decode per image).
  public var pixelHash = false
  /// Also hash 18 crop windows per image and match a full hash against another image's windows
  /// (finds crops of up to about 25% per side; about 19× the index and 3× the hashing time).
  public var crops = false

  /// The defaults: pHash, distance 10, keep first, no pixel hash, no crops.
  public init() {}
}

/// The result of `annota dedup`.
public struct DedupResult: Sendable {
  /// The pool, in input order.
  public var items: [DedupItem]
  /// Hashes per item (nil where the item failed).
  public var records: [DedupRecord?]
  /// Groups of item indices, ascending, ordered by first member.
  public var groups: [[Int]]
  /// The representative (item index) of each group.
  public var representatives: [Int]
  /// Pairs within the distance, as item indices.
  public var pairs: [HammingPair]
  /// Items that failed, in input order.
  public var errors: [(index: Int, error: ItemError)]
  /// Items served from the cache.
  public var cached: Int
  /// Thread-summed seconds spent reading and decoding.
  public var decodeSeconds: Double
  /// Thread-summed seconds spent hashing.
  public var hashSeconds: Double
  /// Wall seconds of the search and grouping.
  public var searchSeconds: Double
  /// The settings used.
  public var options: DedupOptions
}

/// `annota dedup`: hash a pool of images in parallel, find near-duplicate pairs with the
/// multi-index Hamming search, group them and choose a representative per group.
public enum DedupRun {
  /// The image files under `directory` (recursively; `.jpg`, `.jpeg`, `.png`, any case), sorted
  /// by path.
  ///
  /// - Throws: `FileError` if `directory` cannot be listed.
  public static func listImages(in directory: String) throws(FileError) -> [String] {
    var out: [String] = []
    guard let dir = opendir(directory) else { throw .system(directory, "cannot open directory") }
    var subdirectories: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name == "." || name == ".." || name.hasPrefix(".") { continue }
      let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      var info = stat()
      guard stat(path, &info) == 0 else { continue }
      if (info.st_mode & S_IFMT) == S_IFDIR {
        subdirectories.append(path)
      } else if (info.st_mode & S_IFMT) == S_IFREG {
        let lower = name.lowercased()
        if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") || lower.hasSuffix(".png") {
          out.append(path)
        }
      }
    }
    closedir(dir)
    for sub in subdirectories { out += try listImages(in: sub) }
    return out.sorted()
  }

  /// The paths of a list file: one per line, blank lines and `#` comments skipped; relative
  /// paths are taken relative to `base` when given.
  public static func readList(_ path: String, base: String?) throws(FileError) -> [String] {
    let text = String(decoding: try FileIO.read(path), as: UTF8.self)
    var out: [String] = []
    for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
      let line = raw.trimmingSuffix(while: { $0 == "\r" || $0 == " " })
      if line.isEmpty || line.hasPrefix("#") { continue }
      out.append(join(base, String(line)))
    }
    return out
  }

  /// `directory/name`, or `name` when it is absolute or there is no directory.
  public static func join(_ directory: String?, _ name: String) -> String {
    guard let directory, !directory.isEmpty, !name.hasPrefix("/") else { return name }
    return directory.hasSuffix("/") ? directory + name : directory + "/" + name
  }

  /// Size and modification time (ns) of a file, or nil.
  static func stamp(_ path: String) -> (size: Int, modified: Int64)? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return (Int(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
  }

  /// The hashes of one file. The perceptual hashes come from a grey decode at the coarsest DCT
  /// scale (1/8, 1/4, 1/2) that keeps the short side at 32 px or more.
  ///
  /// - Throws: `ItemError` naming the file.
  public static func hash(_ path: String, pixelHash: Bool, crops: Bool = false) throws(ItemError)
    -> (record: DedupRecord, decodeSeconds: Double, hashSeconds: Double)
  {
    let t0 = ProgressReporter.now()
    let bytes: [UInt8]
    do { bytes = try FileIO.read(path) } catch { throw ItemError(error) }
    guard let stamp = stamp(path) else {
      throw ItemError(subject: path, category: .file, message: "cannot stat")
    }
    let decoded: DecodedImage
    var full: Image?
    do {
      let info = try ImageDecoder.info(bytes)
      let short = min(info.width, info.height)
      let scale = [DecodeScale.eighth, .quarter, .half].first { short / $0.denominator >= 32 } ?? .full
      decoded = try ImageDecoder.decode(bytes, options: DecodeOptions(scale: scale, gray: true))
      if pixelHash { full = try ImageDecoder.decode(bytes).image }
    } catch {
      throw ItemError(path: path, error)
    }
    let t1 = ProgressReporter.now()
    let image = decoded.image
    guard image.width > 0 && image.height > 0 else {
      throw ItemError(subject: path, category: .decode, message: "empty image")
    }
    var cropDhashes: [UInt64]?
    var cropPhashes: [UInt64]?
    if crops {
      let windows = PerceptualHash.cropWindows(width: image.width, height: image.height).map {
        image.cropped(to: $0)
      }
      cropDhashes = windows.map(PerceptualHash.difference)
      cropPhashes = windows.map(PerceptualHash.dct)
    }
    let record = DedupRecord(
      bytes: XXHash64.hash(bytes), pixels: full.map(PerceptualHash.pixelHash),
      dhash: PerceptualHash.difference(image), phash: PerceptualHash.dct(image),
      width: decoded.info.width, height: decoded.info.height, cropDhashes: cropDhashes,
      cropPhashes: cropPhashes, sharpness: PerceptualHash.sharpness(image),
      fileSize: stamp.size, modified: stamp.modified)
    return (record, t1 - t0, ProgressReporter.now() - t1)
  }

  /// Hashes `items` in parallel (reusing `cache` entries whose path, size and modification time
  /// match), finds every pair within the distance, and groups them.
  ///
  /// - Complexity: O(n) hashes; the search is sub-quadratic (see `HammingIndex`).
  public static func run(
    _ items: [DedupItem], options: DedupOptions, cache: DedupCache = DedupCache(),
    runner: BatchRunner, progress: ProgressReporter? = nil
  ) async -> DedupResult {
    var records = [DedupRecord?](repeating: nil, count: items.count)
    var errors: [(index: Int, error: ItemError)] = []
    var cached = 0
    var decodeSeconds = 0.0
    var hashSeconds = 0.0
    let pixelHash = options.pixelHash
    let crops = options.crops
    await runner.forEach(items) { item -> (DedupRecord, Double, Double, Bool) in
      if let entry = cache.entries[item.path], let s = stamp(item.path),
        s.size == entry.fileSize, s.modified == entry.modified, !pixelHash || entry.pixels != nil,
        !crops || entry.cropPhashes != nil
      {
        return (entry, 0, 0, true)
      }
      let (record, d, h) = try hash(item.path, pixelHash: pixelHash, crops: crops)
      return (record, d, h, false)
    } deliver: { index, result in
      switch result {
      case .success(let (record, d, h, hit)):
        records[index] = record
        decodeSeconds += d
        hashSeconds += h
        if hit { cached += 1 }
        progress?.advance()
      case .failure(let error):
        let itemError = error as? ItemError
          ?? ItemError(subject: items[index].path, category: .file, message: "\(error)")
        errors.append((index, itemError))
        progress?.advance(failed: true)
      }
    }
    // Search over the items that hashed (their full hashes, and with `crops` their windows'),
    // then map back to item indices: a pair of items is within D if a full hash of one is within
    // D of the full hash or a window of the other; its distance is the smallest such.
    let t0 = ProgressReporter.now()
    var keys: [UInt64] = []
    var owners: [Int] = []
    var variants: [Int] = []  // -1: the full image; else a crop window
    for (i, r) in records.enumerated() {
      guard let r else { continue }
      keys.append(options.hash == .dhash ? r.dhash : r.phash)
      owners.append(i)
      variants.append(-1)
      if options.crops, let windows = options.hash == .dhash ? r.cropDhashes : r.cropPhashes {
        for (v, h) in windows.enumerated() {
          keys.append(h)
          owners.append(i)
          variants.append(v)
        }
      }
    }
    let index = HammingIndex(keys, maxDistance: options.distance)
    let parts = keys.count < 10_000 ? 1 : 64
    var best: [Int64: Int] = [:]
    // Crop windows are only found, never searched from (window-to-window pairs are not wanted).
    let queries = options.crops ? variants.map { $0 < 0 } : nil
    let found = await runner.map(Array(0..<parts)) { index.pairs(part: $0, of: parts, queries: queries) }
    for case .success(let part) in found {
      for p in part {
        let a = owners[p.first]
        let b = owners[p.second]
        let va = variants[p.first]
        let vb = variants[p.second]
        if a == b || (va >= 0 && vb >= 0) { continue }
        var d = p.distance
        if options.hash == .both {
          d = max(d, PerceptualHash.distance(
            records[a]!.dhash(variant: va), records[b]!.dhash(variant: vb)))
          if d > options.distance { continue }
        }
        let key = Int64(min(a, b)) << 32 | Int64(max(a, b))
        best[key] = min(best[key] ?? 64, d)
      }
    }
    var pairs = best.map { key, d in
      HammingPair(first: Int(key >> 32), second: Int(key & 0xFFFF_FFFF), distance: d)
    }
    pairs.sort()
    let groups = DuplicateGroups.components(count: items.count, pairs: pairs)
    let traits = records.map { r in
      ItemTraits(pixels: r.map { $0.width * $0.height } ?? 0, sharpness: r?.sharpness ?? 0)
    }
    let representatives = groups.map {
      DuplicateGroups.representative(of: $0, rule: options.keep, traits: traits)
    }
    return DedupResult(
      items: items, records: records, groups: groups, representatives: representatives,
      pairs: pairs, errors: errors, cached: cached, decodeSeconds: decodeSeconds,
      hashSeconds: hashSeconds, searchSeconds: ProgressReporter.now() - t0, options: options)
  }
}

extension DedupRecord {
  /// The dHash of the full image (`variant` −1) or of crop window `variant`.
  func dhash(variant: Int) -> UInt64 { variant < 0 ? dhash : cropDhashes![variant] }
  /// The pHash of the full image (`variant` −1) or of crop window `variant`.
  func phash(variant: Int) -> UInt64 { variant < 0 ? phash : cropPhashes![variant] }
}

extension DedupResult {
  /// The distance between two items under the run's hash (`both`: the larger of the two); with
  /// `crops`, the smallest over full-to-full and full-to-window comparisons.
  public func distance(_ a: Int, _ b: Int) -> Int {
    let x = records[a]!
    let y = records[b]!
    func one(_ va: Int, _ vb: Int) -> Int {
      let dd = PerceptualHash.distance(x.dhash(variant: va), y.dhash(variant: vb))
      let dp = PerceptualHash.distance(x.phash(variant: va), y.phash(variant: vb))
      switch options.hash {
      case .dhash: return dd
      case .phash: return dp
      case .both: return max(dd, dp)
      }
    }
    var d = one(-1, -1)
    if options.crops, let cx = x.cropPhashes?.count, let cy = y.cropPhashes?.count {
      for v in 0..<cy { d = min(d, one(-1, v)) }
      for v in 0..<cx { d = min(d, one(v, -1)) }
    }
    return d
  }

  /// `"bytes"` if the files are identical, `"pixels"` if the decoded pixels are, else nil.
  public func exactness(_ a: Int, _ b: Int) -> String? {
    let x = records[a]!
    let y = records[b]!
    if x.bytes == y.bytes && x.fileSize == y.fileSize { return "bytes" }
    if let p = x.pixels, p == y.pixels { return "pixels" }
    return nil
  }

  /// Items removed as duplicates (group members other than the representative), ascending.
  public var duplicates: [Int] {
    var out: [Int] = []
    for (g, members) in groups.enumerated() {
      out += members.filter { $0 != representatives[g] }
    }
    return out.sorted()
  }

  /// The paths kept: every hashed item that is not a removed duplicate, in input order.
  public var keepList: String {
    let removed = Set(duplicates)
    var out = ""
    for (i, item) in items.enumerated() where records[i] != nil && !removed.contains(i) {
      out += item.path + "\n"
    }
    return out
  }

  private func itemFields(_ i: Int) -> [(String, JSONValue)] {
    var fields: [(String, JSONValue)] = [("path", .string(items[i].path))]
    if let id = items[i].imageID { fields.append(("image_id", .int(id))) }
    return fields
  }

  /// The GROUPS.json report (schema in README).
  public var report: JSONValue {
    let exactPairs = pairs.filter { exactness($0.first, $0.second) != nil }.count
    let pairsByFirst = Dictionary(grouping: pairs, by: \.first)
    var groupValues: [JSONValue] = []
    for (g, members) in groups.enumerated() {
      let rep = representatives[g]
      let position = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1, $0) })
      let memberValues: [JSONValue] = members.map { m in
        let r = records[m]!
        return .object(itemFields(m) + [
          ("width", .int(Int64(r.width))), ("height", .int(Int64(r.height))),
          ("distance", .int(Int64(distance(rep, m)))),
          ("exact", m == rep ? .null : exactness(rep, m).map { .string($0) } ?? .null),
        ])
      }
      var edges: [JSONValue] = []
      for m in members {
        for p in pairsByFirst[m] ?? [] {
          edges.append(.numbers(
            [Double(position[p.first]!), Double(position[p.second]!), Double(p.distance)],
            integral: true))
        }
      }
      groupValues.append(.object([
        ("id", .int(Int64(g + 1))), ("size", .int(Int64(members.count))),
        ("representative", .int(Int64(position[rep]!))),
        ("members", .array(memberValues)), ("pairs", .array(edges)),
      ]))
    }
    var imageValues: [JSONValue] = []
    for (i, r) in records.enumerated() {
      guard let r else { continue }
      var fields = itemFields(i)
      fields += [
        ("bytes", .string(PerceptualHash.hex(r.bytes))),
        ("dhash", .string(PerceptualHash.hex(r.dhash))),
        ("phash", .string(PerceptualHash.hex(r.phash))),
      ]
      if let p = r.pixels { fields.append(("pixels", .string(PerceptualHash.hex(p)))) }
      fields += [
        ("width", .int(Int64(r.width))), ("height", .int(Int64(r.height))),
        ("sharpness", .double(r.sharpness)),
      ]
      imageValues.append(.object(fields))
    }
    let errorValues: [JSONValue] = errors.map { e in
      .object(itemFields(e.index) + [
        ("category", .string(e.error.category.rawValue)), ("message", .string(e.error.message)),
      ])
    }
    return .object([
      ("settings", .object([
        ("hash", .string(options.hash.rawValue)), ("distance", .int(Int64(options.distance))),
        ("keep", .string(options.keep.rawValue)), ("pixelHash", .bool(options.pixelHash)),
        ("crops", .bool(options.crops)),
      ])),
      ("summary", .object([
        ("items", .int(Int64(items.count))), ("hashed", .int(Int64(items.count - errors.count))),
        ("failed", .int(Int64(errors.count))), ("cached", .int(Int64(cached))),
        ("groups", .int(Int64(groups.count))), ("duplicates", .int(Int64(duplicates.count))),
        ("pairs", .int(Int64(pairs.count))), ("exactPairs", .int(Int64(exactPairs))),
      ])),
      ("groups", .array(groupValues)),
      ("images", .array(imageValues)),
      ("errors", .array(errorValues)),
    ])
  }

  /// `group,path,image_id,representative,distance,exact`: one line per group member.
  public var csv: String {
    var out = "group,path,image_id,representative,distance,exact\n"
    for (g, members) in groups.enumerated() {
      let rep = representatives[g]
      for m in members {
        let id = items[m].imageID.map(String.init) ?? ""
        let exact = m == rep ? "" : exactness(rep, m) ?? ""
        out += "\(g + 1),\(LabelFile.csvField(items[m].path)),\(id),\(m == rep ? 1 : 0),"
          + "\(distance(rep, m)),\(exact)\n"
      }
    }
    return out
  }

  /// The COCO document without the removed duplicates' images and their annotations; every
  /// other field kept as read.
  public func filteredCOCO(_ dataset: COCODataset) -> JSONValue {
    let removed = Set(duplicates.compactMap { items[$0].imageID })
    let members = dataset.document.map { key, value -> (String, JSONValue) in
      guard case .array(let elements) = value else { return (key, value) }
      switch key {
      case "images":
        return (key, .array(elements.filter { e in e["id"]?.integer.map { !removed.contains($0) } ?? true }))
      case "annotations":
        return (key, .array(elements.filter { e in
          e["image_id"]?.integer.map { !removed.contains($0) } ?? true
        }))
      default: return (key, value)
      }
    }
    return .object(members)
  }
}

/// Hashes from earlier runs, by path; an entry is reused when the file's size and modification
/// time are unchanged.
public struct DedupCache: Sendable {
  /// Entries by path.
  public var entries: [String: DedupRecord] = [:]

  /// An empty cache.
  public init() {}

  /// Reads a cache file; a missing file is an empty cache.
  ///
  /// - Throws: `FileError` if it exists but is not a valid cache.
  public static func load(_ path: String) throws(FileError) -> DedupCache {
    var cache = DedupCache()
    guard FileIO.exists(path) else { return cache }
    let json: JSONValue
    do { json = try JSONReader.parse(try FileIO.read(path)) } catch let error as FileError {
      throw error
    } catch {
      throw FileError(path: path, message: "not a dedup cache: \(error)")
    }
    guard json["version"]?.integer == 1, case .array(let list)? = json["entries"] else {
      throw FileError(path: path, message: "not a dedup cache (version 1)")
    }
    for e in list {
      guard case .string(let p)? = e["path"], let size = e["size"]?.integer,
        let modified = e["modified"]?.integer,
        case .string(let b)? = e["bytes"], let bytes = PerceptualHash.parseHex(b),
        case .string(let dh)? = e["dhash"], let dhash = PerceptualHash.parseHex(dh),
        case .string(let ph)? = e["phash"], let phash = PerceptualHash.parseHex(ph),
        let w = e["width"]?.integer, let h = e["height"]?.integer, let s = e["sharpness"]?.number
      else { continue }
      var pixels: UInt64?
      if case .string(let px)? = e["pixels"] { pixels = PerceptualHash.parseHex(px) }
      func hexList(_ key: String) -> [UInt64]? {
        guard case .array(let list)? = e[key] else { return nil }
        let values = list.compactMap { v -> UInt64? in
          if case .string(let x) = v { return PerceptualHash.parseHex(x) } else { return nil }
        }
        return values.count == list.count ? values : nil
      }
      cache.entries[p] = DedupRecord(
        bytes: bytes, pixels: pixels, dhash: dhash, phash: phash, width: Int(w), height: Int(h),
        cropDhashes: hexList("cropDhash"), cropPhashes: hexList("cropPhash"),
        sharpness: s, fileSize: Int(size), modified: modified)
    }
    return cache
  }

  /// The cache with this run's records added (replacing entries of the same path).
  public func merging(_ result: DedupResult) -> DedupCache {
    var out = self
    for (i, r) in result.records.enumerated() { if let r { out.entries[result.items[i].path] = r } }
    return out
  }

  /// The cache file: `{"version":1,"entries":[{path,size,modified,bytes,pixels?,dhash,phash,
  /// width,height,sharpness,cropDhash?,cropPhash?}]}`, sorted by path.
  public var json: JSONValue {
    let list: [JSONValue] = entries.keys.sorted().map { p in
      let r = entries[p]!
      var fields: [(String, JSONValue)] = [
        ("path", .string(p)), ("size", .int(Int64(r.fileSize))), ("modified", .int(r.modified)),
        ("bytes", .string(PerceptualHash.hex(r.bytes))),
      ]
      if let px = r.pixels { fields.append(("pixels", .string(PerceptualHash.hex(px)))) }
      fields += [
        ("dhash", .string(PerceptualHash.hex(r.dhash))), ("phash", .string(PerceptualHash.hex(r.phash))),
        ("width", .int(Int64(r.width))), ("height", .int(Int64(r.height))),
        ("sharpness", .double(r.sharpness)),
      ]
      if let cd = r.cropDhashes, let cp = r.cropPhashes {
        fields.append(("cropDhash", .array(cd.map { .string(PerceptualHash.hex($0)) })))
        fields.append(("cropPhash", .array(cp.map { .string(PerceptualHash.hex($0)) })))
      }
      return .object(fields)
    }
    return .object([("version", .int(1)), ("entries", .array(list))])
  }
}

extension Substring {
  fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
    var end = endIndex
    while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
    return self[startIndex..<end]
  }
}

/// The near-duplicate search on synthetic hashes, for measuring it at scale.
public struct SyntheticSearch: Sendable {
  /// Hashes searched.
  public var count: Int
  /// Near-duplicates planted (each a copy of an earlier hash with 1...distance bits flipped).
  public var planted: Int
  /// Planted pairs found (must equal `planted`: the search is exact).
  public var plantedFound: Int
  /// All pairs found.
  public var pairs: Int
  /// Seconds to build the index.
  public var buildSeconds: Double
  /// Seconds to find every pair.
  public var querySeconds: Double
  /// Chunks the index chose.
  public var chunks: Int
  /// Per-chunk radius the index chose.
  public var chunkRadius: Int

  /// `count` hashes: 90% uniform random, 10% planted near-duplicates of a random earlier hash;
  /// searched within `distance` with the multi-index search over `runner`'s threads.
  public static func run(count: Int, distance: Int, seed: UInt64, runner: BatchRunner) async
    -> SyntheticSearch
  {
    var rng = SplitMix64(seed: seed)
    var hashes: [UInt64] = []
    hashes.reserveCapacity(count)
    var planted: [(Int, Int)] = []
    for i in 0..<count {
      if i > 0 && rng.next() % 10 == 0 {
        let source = Int(rng.next() % UInt64(i))
        var h = hashes[source]
        let flips = distance == 0 ? 0 : 1 + Int(rng.next() % UInt64(distance))
        for _ in 0..<flips { h ^= 1 << (rng.next() % 64) }  // may repeat a bit: ≤ flips
        planted.append((source, i))
        hashes.append(h)
      } else {
        hashes.append(rng.next())
      }
    }
    let t0 = ProgressReporter.now()
    let index = HammingIndex(hashes, maxDistance: distance)
    let t1 = ProgressReporter.now()
    var found = Set<Int64>()
    var total = 0
    for case .success(let part) in await runner.map(Array(0..<64), { index.pairs(part: $0, of: 64) }) {
      total += part.count
      for p in part { found.insert(Int64(p.first) << 32 | Int64(p.second)) }
    }
    let t2 = ProgressReporter.now()
    let hit = planted.filter { found.contains(Int64($0.0) << 32 | Int64($0.1)) }.count
    return SyntheticSearch(
      count: count, planted: planted.count, plantedFound: hit, pairs: total,
      buildSeconds: t1 - t0, querySeconds: t2 - t1, chunks: index.chunkCount,
      chunkRadius: index.chunkRadius)
  }
}
