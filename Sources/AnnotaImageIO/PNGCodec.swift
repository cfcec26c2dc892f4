import AnnotaImage
internal import AnnotaCodecShims

/// libpng's classic API through the C shim: every colour type and bit depth to 8-bit gray, RGB or
/// RGBA (16-bit samples rounded, `v8 = (v16 * 255 + 32895) >> 16`), Adam7 handled in place.
enum PNGCodec {
  static func info(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(DecodeError)
    -> ImageInfo
  {
    imageInfo(try readInfo(bytes, limits: limits))
  }

  static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions) throws(DecodeError)
    -> DecodedImage
  {
    let header = try readInfo(bytes, limits: options.limits)
    let region = try clippedRegion(options.region, width: Int(header.width),
                                   height: Int(header.height))
    let format = PixelFormat(shim: header.out_layout)
    let width = Int(header.width)
    let height = Int(header.height)
    let stride = width * format.channels
    let (capacity, overflow) = stride.multipliedReportingOverflow(by: height)
    if overflow { throw DecodeError(.limit, "image size overflows") }

    try checkCompressionRatio(header, fileSize: bytes.count)

    var limits = options.limits.shim
    var status = ANNOTA_OK
    var message = ""
    var decodedInfo = header
    let pixels = bytes.withMemoryRebound(to: UInt8.self) { data in
      [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, count in
        (status, message) = withMessageBuffer { text, textCapacity in
          annota_png_decode_into(
            data.baseAddress!, data.count, &limits, options.failOn.shim, buffer.baseAddress!,
            stride, capacity, &decodedInfo, text, textCapacity)
        }
        count = status == ANNOTA_OK ? capacity : 0
      }
    }
    if status != ANNOTA_OK { throw decodeError(status, message) }

    var image = Image(width: width, height: height, format: format, pixels: pixels)
    if region.width != width || region.height != height { image = image.cropped(to: region) }
    if options.gray && image.format != .gray { image = image.converted(to: .gray) }
    var scaledRegion = region
    if options.scale != .full {
      image = image.downsampled(by: options.scale.denominator)
      scaledRegion = region.scaled(down: options.scale.denominator)
      scaledRegion.width = image.width
      scaledRegion.height = image.height
    }
    return DecodedImage(
      image: image, info: imageInfo(header), scale: options.scale, region: scaledRegion,
      warnings: Int(decodedInfo.warnings), truncated: decodedInfo.truncated != 0)
  }

  /// Deflate cannot compress better than 1032:1, so a file too small to hold its own image data
  /// is refused before the output buffer is allocated (a decompression-bomb header).
  private static func checkCompressionRatio(_ header: annota_png_info, fileSize: Int)
    throws(DecodeError)
  {
    let bitsPerPixel = UInt64(header.bit_depth) * UInt64(pngSamplesPerPixel(header.color_type))
    let rowBytes = (UInt64(header.width) * bitsPerPixel + 7) / 8 + 1
    let (raw, overflow) = rowBytes.multipliedReportingOverflow(by: UInt64(header.height))
    let possible = UInt64(fileSize) * 1032 + 65_536
    if overflow || raw > possible {
      throw DecodeError(
        .corrupt,
        "a \(header.width)x\(header.height) PNG needs \(overflow ? "more than 2^64" : String(raw)) bytes of "
          + "image data, more than a \(fileSize)-byte file can hold (deflate compresses at most 1032:1)")
    }
  }

  private static func pngSamplesPerPixel(_ colorType: UInt32) -> Int {
    switch colorType {
    case 2: 3
    case 4: 2
    case 6: 4
    default: 1
    }
  }

  private static func readInfo(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits)
    throws(DecodeError) -> annota_png_info
  {
    var limits = limits.shim
    var header = annota_png_info()
    let (status, message) = bytes.withMemoryRebound(to: UInt8.self) { data in
      withMessageBuffer { text, capacity in
        annota_png_read_info(data.baseAddress!, data.count, &limits, &header, text, capacity)
      }
    }
    if status != ANNOTA_OK { throw decodeError(status, message) }
    return header
  }

  private static func imageInfo(_ header: annota_png_info) -> ImageInfo {
    let (model, channels): (String, Int)
    switch header.color_type {
    case 0: (model, channels) = ("gray", 1)
    case 2: (model, channels) = ("rgb", 3)
    case 3: (model, channels) = ("palette", 1)
    case 4: (model, channels) = ("gray+alpha", 2)
    default: (model, channels) = ("rgba", 4)
    }
    return ImageInfo(
      format: .png, width: Int(header.width), height: Int(header.height), channels: channels,
      bitDepth: Int(header.bit_depth), outputFormat: PixelFormat(shim: header.out_layout),
      orientation: nil, progressive: header.interlaced != 0, colorModel: model)
  }
}
