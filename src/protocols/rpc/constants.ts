// ONC RPC version 2 wire constants, spelled and numbered as in RFC 5531.

export const RPC_VERSION = 2

// enum msg_type
export const CALL = 0
export const REPLY = 1

// enum reply_stat
export const MSG_ACCEPTED = 0
export const MSG_DENIED = 1

// enum accept_stat
export const SUCCESS = 0
export const PROG_UNAVAIL = 1
export const PROG_MISMATCH = 2
export const PROC_UNAVAIL = 3
export const GARBAGE_ARGS = 4
export const SYSTEM_ERR = 5

// enum reject_stat
export const RPC_MISMATCH = 0
export const AUTH_ERROR = 1

// enum auth_stat
export const AUTH_OK = 0
export const AUTH_BADCRED = 1
export const AUTH_REJECTEDCRED = 2
export const AUTH_BADVERF = 3
export const AUTH_REJECTEDVERF = 4
export const AUTH_TOOWEAK = 5

// enum auth_flavor
export const AUTH_NONE = 0
export const AUTH_SYS = 1

/** opaque_auth body<400> */
export const MAX_AUTH_BYTES = 400
/** authsys_parms: machinename<255>, gids<16> */
export const MAX_MACHINE_NAME = 255
export const MAX_AUTH_SYS_GIDS = 16
