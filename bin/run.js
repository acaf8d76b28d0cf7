#!/usr/bin/env node
// The AWS SDK warns once per process that Node 20 support ends; users cannot act on it mid-command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
// oclif checks Node against its own engines range, looser than zerofs's (which npm enforces at
// install), and loads semver for it: about 35 ms of every start. Set before oclif is imported.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= 'true'

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
