#!/usr/bin/env node
import {execute} from '@oclif/core'

// The AWS SDK warns once per process that Node 20 support ends; users cannot act on it mid-command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

await execute({dir: import.meta.url})
