export const MiB = 1024 * 1024

/** S3's limits on multipart uploads: no part but the last under 5 MiB, at most 10,000 parts. */
export const MIN_PART_SIZE = 5 * MiB
export const MAX_PARTS = 10_000
export const DEFAULT_PART_SIZE = 8 * MiB

/**
 * The part size for an upload: the requested one (default 8 MiB, at least 5 MiB), grown in whole
 * MiB when a body of known size would otherwise need more than 10,000 parts. A body of unknown
 * length keeps the requested size, which caps it at 10,000 parts (80 GB with 8 MiB parts).
 */
export function choosePartSize(size: number | undefined, requested = DEFAULT_PART_SIZE): number {
  const partSize = Math.max(requested, MIN_PART_SIZE)
  if (size === undefined || size <= partSize * MAX_PARTS) return partSize
  return Math.ceil(size / MAX_PARTS / MiB) * MiB
}
