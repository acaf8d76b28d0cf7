#!/usr/bin/env node
import {setFlagsFromString} from 'node:v8'

// verify runs each entry of a tree through a chain of async generators once: V8's optimising
// compiler, tiering them up as early as it does by default, cost it more CPU than it saved (in a
// verify of 5,000 files, ~0.8 s of 3.2 s on its threads, recompiling generators optimised before
// their feedback was complete). 64× V8's budget optimises only what stays hot: 25–30% less CPU.
// Not for the other commands: migrate, which sends thousands of requests through the SDK, took 15%
// longer with it, cat the same time; a server runs for hours and is left as V8 tunes it.
if (process.argv[2] === 'verify') setFlagsFromString('--interrupt-budget=4325376')
// The AWS SDK warns once per process that Node 20 support ends; users cannot act on it mid-command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
// oclif checks Node against its own engines range, looser than zerofs's (which npm enforces at
// install), and loads semver for it: about 35 ms of every start. Set before oclif is imported.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= 'true'

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
