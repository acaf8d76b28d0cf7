import type {Body, RequestName} from './messages.js'
import type {P9Session, Reply} from './session.js'

/** Validates the fields, executes through the core, returns the reply; throws FsError or P9Error. */
export type Handler<N extends RequestName> = (session: P9Session, body: Body<N>) => Promise<Reply>
