/**
 * Bytes as pieces to be used in order (the chunks a download arrived in, or views of them): read
 * replies are sent as they are, without copying them into one buffer.
 */

/** The bytes `[start, end)` of the concatenation of `pieces`, as views of them (no copy). */
export function slicePieces(pieces: readonly Buffer[], start: number, end: number): Buffer[] {
  const sliced: Buffer[] = []
  let at = 0
  for (const piece of pieces) {
    const pieceEnd = at + piece.length
    if (pieceEnd > start && at < end) sliced.push(piece.subarray(Math.max(start - at, 0), Math.min(end, pieceEnd) - at))
    if (pieceEnd >= end) break
    at = pieceEnd
  }
  return sliced
}

export function piecesLength(pieces: readonly Buffer[]): number {
  let length = 0
  for (const piece of pieces) length += piece.length
  return length
}

/** The pieces in one buffer, copied only when there are several. */
export function joinPieces(pieces: readonly Buffer[]): Buffer {
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces)
}
