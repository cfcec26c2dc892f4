import AnnotaImage
internal import AnnotaCodecShims

/// libjpeg-turbo through the C shim: ISLOW IDCT, fancy upsampling (libjpeg's defaults), CMYK and
/// YCCK converted to RGB, regions via `jpeg_crop_scanline` + `jpeg_skip_scanlines`, DCT scaling.
/// A whole-image grey decode at 1/8 of a plain baseline file reads the luma DC terms straight
/// from the entropy-coded data (the shim's DC-only scan: libjpeg's exact output, in about 70% of
/// its time), and falls back to libjpeg for anything else.
enum JPEGCodec {
  static func info(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits) throws(DecodeError)
    -> ImageInfo
  {
    var request = annota_jpeg_request()
    request.scale_denom = 1
    request.fail_on = ANNOTA_FAIL_ON_TRUNCATED
    request.limits = limits.shim
    let header = try readInfo(bytes, request: request)
    return imageInfo(header, orientation: ExifReader.orientation(jpeg: bytes))
  }

  static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions) throws(DecodeError)
    -> DecodedImage
  {
    var request = annota_jpeg_request()
    request.scale_denom = UInt32(options.scale.denominator)
    request.gray = options.gray ? 1 : 0
    request.fail_on = options.failOn.shim
    request.limits = options.limits.shim
    request.libjpeg_only = options.libjpegOnly ? 1 : 0

    // First pass: header and scaled size, to place the region in scaled coordinates.
    var header = try readInfo(bytes, request: request)
    let scaledRegion: PixelRect
    if let region = options.region {
      let full = try clippedRegion(region, width: Int(header.width), height: Int(header.height))
      scaledRegion = full.scaled(down: options.scale.denominator)
        .intersection(PixelRect(x: 0, y: 0, width: Int(header.scaled_width),
                                height: Int(header.scaled_height)))
      request.region_x = UInt32(scaledRegion.x)
      request.region_y = UInt32(scaledRegion.y)
      request.region_w = UInt32(scaledRegion.width)
      request.region_h = UInt32(scaledRegion.height)
      // The output is the region; decode_into validates it again against the header in C.
      header.out_width = request.region_w
      header.out_height = request.region_h
    } else {
      scaledRegion = PixelRect(x: 0, y: 0, width: Int(header.scaled_width),
                               height: Int(header.scaled_height))
    }

    let format = PixelFormat(shim: header.out_layout)
    let width = Int(header.out_width)
    let height = Int(header.out_height)
    let stride = width * format.channels
    let (capacity, overflow) = stride.multipliedReportingOverflow(by: height)
    if overflow { throw DecodeError(.limit, "image size overflows") }

    var status = ANNOTA_OK
    var message = ""
    var decodedInfo = header
    let pixels = bytes.withMemoryRebound(to: UInt8.self) { data in
      [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, count in
        (status, message) = withMessageBuffer { text, textCapacity in
          annota_jpeg_decode_into(
            data.baseAddress!, data.count, &request, buffer.baseAddress!, stride, capacity,
            &decodedInfo, text, textCapacity)
        }
        count = status == ANNOTA_OK ? capacity : 0
      }
    }
    if status != ANNOTA_OK { throw decodeError(status, message) }
    return DecodedImage(
      image: Image(width: width, height: height, format: format, pixels: pixels),
      info: imageInfo(header, orientation: ExifReader.orientation(jpeg: bytes)),
      scale: options.scale, region: scaledRegion, warnings: Int(decodedInfo.warnings),
      truncated: decodedInfo.truncated != 0)
  }

  private static func readInfo(_ bytes: UnsafeRawBufferPointer, request: annota_jpeg_request)
    throws(DecodeError) -> annota_jpeg_info
  {
    var request = request
    var header = annota_jpeg_info()
    let (status, message) = bytes.withMemoryRebound(to: UInt8.self) { data in
      withMessageBuffer { text, capacity in
        annota_jpeg_read_info(data.baseAddress!, data.count, &request, &header, text, capacity)
      }
    }
    if status != ANNOTA_OK { throw decodeError(status, message) }
    return header
  }

  private static func imageInfo(_ header: annota_jpeg_info, orientation: Orientation?) -> ImageInfo {
    let model: String
    switch header.colorspace {
    case ANNOTA_JCS_GRAY: model = "gray"
    case ANNOTA_JCS_RGB: model = "rgb"
    case ANNOTA_JCS_YCBCR: model = "ycbcr"
    case ANNOTA_JCS_CMYK: model = "cmyk"
    case ANNOTA_JCS_YCCK: model = "ycck"
    default: model = "unknown"
    }
    return ImageInfo(
      format: .jpeg, width: Int(header.width), height: Int(header.height),
      channels: Int(header.components), bitDepth: 8,
      outputFormat: header.components == 1 ? .gray : .rgb, orientation: orientation,
      progressive: header.progressive != 0, colorModel: model)
  }
}
