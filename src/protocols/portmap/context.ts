import type {RpcLogger} from '../rpc/dispatcher.js'
import type {Mapping} from './mapping.js'

/** What the portmapper's procedures share: the fixed table of what this server offers. */
export interface PortmapContext {
  /** Every program, version and transport zerofs serves, with its port; never changed by clients. */
  mappings: readonly Mapping[]
  logger: RpcLogger
}
