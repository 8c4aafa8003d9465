/** npm run image: build the bootable disk image (see scripts/image/ and docs/disk-image.md). */
import { processIo } from "./image/cliIo.js";
import { runImageCli } from "./image/imageCli.js";

process.exitCode = runImageCli(process.argv.slice(2), processIo);
