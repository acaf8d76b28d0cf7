/** The one error the NBD decoders throw: the bytes do not follow the protocol, and the connection closes. */
export class NbdDecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NbdDecodeError'
  }
}
