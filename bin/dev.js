#!/usr/bin/env -S node --import tsx
import {execute} from '@oclif/core'

// The AWS SDK warns once per process that Node 20 support ends; users cannot act on it mid-command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

await execute({development: true, dir: import.meta.url})
