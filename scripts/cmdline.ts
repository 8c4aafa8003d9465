/** Show or change the kernel command line stored in a Wisp disk image. */
import { processIo } from "./image/cliIo.js";
import { runCmdlineCli } from "./image/cmdlineCli.js";

process.exitCode = runCmdlineCli(process.argv.slice(2), processIo);
