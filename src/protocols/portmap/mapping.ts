import type {XdrReader, XdrWriter} from '../rpc/xdr.js'

/*
 * struct mapping { unsigned int prog; unsigned int vers; unsigned int prot; unsigned int port; };
 */
export interface Mapping {
  prog: number
  vers: number
  /** IPPROTO_TCP or IPPROTO_UDP. */
  prot: number
  port: number
}

export function readMapping(reader: XdrReader): Mapping {
  return {prog: reader.uint32(), vers: reader.uint32(), prot: reader.uint32(), port: reader.uint32()}
}

export function writeMapping(writer: XdrWriter, mapping: Mapping): void {
  writer.uint32(mapping.prog).uint32(mapping.vers).uint32(mapping.prot).uint32(mapping.port)
}

/**
 * The port registered for a program, version and protocol; 0 when none is. A program registered
 * with other versions on that protocol answers with that port, as the classic portmapper does, so
 * the client learns the supported versions from the server's PROG_MISMATCH.
 */
export function portOf(mappings: readonly Mapping[], wanted: Pick<Mapping, 'prog' | 'vers' | 'prot'>): number {
  const candidates = mappings.filter((mapping) => mapping.prog === wanted.prog && mapping.prot === wanted.prot)
  return (candidates.find((mapping) => mapping.vers === wanted.vers) ?? candidates[0])?.port ?? 0
}
