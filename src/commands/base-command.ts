/**
 * BaseCommand lives in src/cli/base-command.ts (oclif loads every file under commands/ as a
 * command). This re-export remains only until every command imports it from there.
 */
export {BaseCommand, storeOptions, type BaseFlags} from '../cli/base-command.js'
