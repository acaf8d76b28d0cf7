import {permittedChanges} from '../../core/fs/permissions.js'
import type {SetAttr, Timestamp} from '../../core/fs/types.js'
import {readFileHandle} from './arguments.js'
import {isEmptySetAttr, readNfstime3, readSattr3, writeWccData} from './attributes.js'
import {NFS3ERR_NOT_SYNC} from './constants.js'
import type {Nfs3Procedure} from './procedure.js'
import {Nfs3Error} from './status.js'

/*
 * union sattrguard3 switch (bool check) {
 *   case TRUE: nfstime3 obj_ctime;
 *   case FALSE: void;
 * };
 * struct SETATTR3args { nfs_fh3 object; sattr3 new_attributes; sattrguard3 guard; };
 * struct SETATTR3resok { wcc_data obj_wcc; };
 * struct SETATTR3resfail { wcc_data obj_wcc; };
 * union SETATTR3res switch (nfsstat3 status) {
 *   case NFS3_OK: SETATTR3resok resok;
 *   default: SETATTR3resfail resfail;
 * };
 */

export interface Setattr3Args {
  object: Buffer
  changes: SetAttr
  /** The ctime the client believes the object has; the change applies only if it still does. */
  guard?: Timestamp
}

export const setattr: Nfs3Procedure<Setattr3Args> = {
  name: 'SETATTR',
  mutates: true,
  decode: (reader) => ({
    object: readFileHandle(reader),
    changes: readSattr3(reader),
    guard: reader.optional(() => readNfstime3(reader)),
  }),
  async execute(args, call) {
    const before = await call.resolve(args.object)
    if (args.guard && (args.guard.sec !== before.ctime.sec || args.guard.nsec !== before.ctime.nsec)) {
      throw new Nfs3Error(NFS3ERR_NOT_SYNC, 'ctime guard does not match')
    }
    const after = isEmptySetAttr(args.changes) ? before : await call.fs.setattr(before.ino, permittedChanges(before, call.caller, args.changes, 'setattr'))
    return (writer) => writeWccData(writer, before, after, call.fsid)
  },
  failure: (args, call) => call.failureWcc(args.object),
}
