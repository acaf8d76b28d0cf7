import Migrate from '../../src/commands/migrate.js'
import Verify from '../../src/commands/verify.js'

/** The commands run-command.ts offers, for oclif's explicit command discovery. */
export default {migrate: Migrate, verify: Verify}
