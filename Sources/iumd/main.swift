// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import IUMDaemon

exit(await DaemonMain.run(arguments: Array(CommandLine.arguments.dropFirst())))
