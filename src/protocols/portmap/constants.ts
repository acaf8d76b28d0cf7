// Port mapper version 2 wire constants, spelled and numbered as in RFC 1833 §3.

export const PMAP_PORT = 111

export const PMAP_PROG = 100000
export const PMAP_VERS = 2

export const PMAPPROC_NULL = 0
export const PMAPPROC_SET = 1
export const PMAPPROC_UNSET = 2
export const PMAPPROC_GETPORT = 3
export const PMAPPROC_DUMP = 4
export const PMAPPROC_CALLIT = 5

// struct mapping { ... unsigned int prot; ... }: the IP protocol numbers
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17
