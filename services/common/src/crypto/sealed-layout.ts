// Sizes and layout of a sealed object (for storage sizing and HTTP Range reads); no keys needed.
import { CryptoError } from './errors';
import { checkSegmentSize, SEALED_TAG_BYTES } from './sealed-header';

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new CryptoError('invalid_argument', `${name} must be a non-negative integer`);
}

export function segmentCountFor(plaintextSize: number, segmentSize: number): number {
  checkSize('plaintext size', plaintextSize);
  return plaintextSize === 0 ? 1 : Math.ceil(plaintextSize / segmentSize);
}

export function sealedSize(plaintextSize: number, headerLength: number, segmentSize: number): number {
  return (
    headerLength +
    plaintextSize +
    segmentCountFor(plaintextSize, checkSegmentSize(segmentSize)) * SEALED_TAG_BYTES
  );
}

/** Inverse of `sealedSize`, e.g. from an object store's Content-Length; throws if no plaintext size fits. */
export function plaintextSizeOf(sealedTotal: number, headerLength: number, segmentSize: number): number {
  checkSize('sealed size', sealedTotal);
  checkSegmentSize(segmentSize);
  const body = sealedTotal - headerLength;
  const fullSegment = segmentSize + SEALED_TAG_BYTES;
  const count = Math.max(1, Math.ceil(body / fullSegment));
  const plaintext = body - count * SEALED_TAG_BYTES;
  if (body < SEALED_TAG_BYTES || plaintext < 0 || (count > 1 && plaintext <= (count - 1) * segmentSize)) {
    throw new CryptoError(
      'truncated',
      `${sealedTotal} bytes is not the size of a sealed object with this header`,
    );
  }
  return plaintext;
}

export interface SealedLayout {
  headerLength: number;
  segmentSize: number;
  plaintextSize: number;
  segmentCount: number;
  sealedSize: number;
}

export interface SegmentSpan {
  index: number;
  last: boolean;
  /** byte offsets in the sealed object, end exclusive: ciphertext ‖ tag */
  sealedStart: number;
  sealedEnd: number;
  plaintextStart: number;
  plaintextLength: number;
}

export interface SealedRange {
  firstSegment: number;
  lastSegment: number;
  /** the sealed bytes to fetch, end exclusive (whole segments) */
  sealedStart: number;
  sealedEnd: number;
  /** plaintext bytes to drop from the start of the first opened segment */
  skip: number;
  /** plaintext bytes to return after `skip` */
  length: number;
}

export function sealedLayout(
  header: { headerLength: number; segmentSize: number },
  plaintextSize: number,
): SealedLayout {
  const segmentSize = checkSegmentSize(header.segmentSize);
  const segmentCount = segmentCountFor(plaintextSize, segmentSize);
  return {
    headerLength: header.headerLength,
    segmentSize,
    plaintextSize,
    segmentCount,
    sealedSize: header.headerLength + plaintextSize + segmentCount * SEALED_TAG_BYTES,
  };
}

export function segmentSpan(layout: SealedLayout, index: number): SegmentSpan {
  if (!Number.isInteger(index) || index < 0 || index >= layout.segmentCount) {
    throw new CryptoError('invalid_argument', `segment ${index} out of 0..${layout.segmentCount - 1}`);
  }
  const plaintextStart = index * layout.segmentSize;
  const plaintextLength = Math.min(layout.segmentSize, layout.plaintextSize - plaintextStart);
  const sealedStart = layout.headerLength + index * (layout.segmentSize + SEALED_TAG_BYTES);
  return {
    index,
    last: index === layout.segmentCount - 1,
    sealedStart,
    sealedEnd: sealedStart + plaintextLength + SEALED_TAG_BYTES,
    plaintextStart,
    plaintextLength,
  };
}

/** Maps the plaintext range [start, end) (end exclusive; HTTP's `bytes=a-b` is [a, b+1)) to segments. */
export function sealedRangeFor(layout: SealedLayout, start: number, end: number): SealedRange {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end <= start ||
    end > layout.plaintextSize
  ) {
    throw new CryptoError(
      'invalid_argument',
      `range [${start}, ${end}) is not inside 0..${layout.plaintextSize}`,
    );
  }
  const firstSegment = Math.floor(start / layout.segmentSize);
  const lastSegment = Math.floor((end - 1) / layout.segmentSize);
  return {
    firstSegment,
    lastSegment,
    sealedStart: segmentSpan(layout, firstSegment).sealedStart,
    sealedEnd: segmentSpan(layout, lastSegment).sealedEnd,
    skip: start - firstSegment * layout.segmentSize,
    length: end - start,
  };
}
