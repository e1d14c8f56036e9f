//go:build ignore

// gen.go regenerates tracker.min.js and lite.min.js from the readable
// sources. Run it with `go generate ./ingest/tracker`.
package main

import (
	"log"
	"os"

	"github.com/footfall/analytics/ingest/tracker/internal/minify"
)

func main() {
	for _, name := range []string{"tracker", "lite"} {
		src, err := os.ReadFile(name + ".js")
		if err != nil {
			log.Fatal(err)
		}
		out, err := minify.JS(name+".js", src)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(name+".min.js", out, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
