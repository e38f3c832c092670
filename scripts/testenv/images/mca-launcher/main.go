// "mca" inside the locally built mca image: runs the bundled dist/mca.js with the Deno beside
// it, passing the arguments through, as the compiled binary would run (deno compile cannot run
// where the test images are built). It replaces itself with Deno, so signals and the exit code
// are Deno's own.
package main

import (
	"fmt"
	"os"
	"syscall"
)

const (
	deno   = "/usr/local/bin/deno"
	bundle = "/usr/local/lib/mca/mca.js"
)

func main() {
	// --no-config and --no-lock: the bundle is self-contained, and a config or lock file in
	// the working directory must not change what runs.
	args := append([]string{"deno", "run", "--allow-all", "--quiet", "--no-config", "--no-lock", bundle}, os.Args[1:]...)
	env := append(os.Environ(), "DENO_NO_UPDATE_CHECK=1", "DENO_NO_PROMPT=1")
	if err := syscall.Exec(deno, args, env); err != nil {
		fmt.Fprintf(os.Stderr, "mca: cannot run %q: %v\n", deno, err)
		os.Exit(127)
	}
}
