/** Linux's dev_t layout (new_encode_dev), the form Attr.rdev takes: split into and joined from major and minor numbers. */
export function splitDevice(rdev: number): {major: number; minor: number} {
  return {major: (rdev >>> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00)}
}

export function joinDevice(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0
}
