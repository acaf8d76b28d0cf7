/** rtmax and wtmax of FSINFO: the largest READ reply and WRITE argument zerofs handles (1 MiB). */
export const MAX_TRANSFER = 1 << 20

/** The largest file offset/size zerofs accepts: S3's object size limit is 5 TiB. */
export const MAX_FILE_SIZE = 5 * 2 ** 40
