package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/config/standard"
)

// errUsage reports a flag error that the flag package has already printed.
var errUsage = errors.New("usage")

// configFlags are the flags every subcommand shares.
type configFlags struct {
	path string
	data string
}

func newFlagSet(e *env, name string, cf *configFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("footfall "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&cf.path, "config", e.getenv("FOOTFALL_CONFIG"), "configuration `file` (HCL); default $FOOTFALL_CONFIG")
	fs.StringVar(&cf.data, "data", "", "data `directory`, overriding data_dir")
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	return nil
}

// load reads the configuration the flags name.
func (cf *configFlags) load(e *env) (*config.Config, error) {
	environ := e.environ
	if cf.data != "" {
		environ = append(append([]string(nil), environ...), "FOOTFALL_DATA_DIR="+cf.data)
	}
	cfg, err := config.Load(cf.path, environ)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

func logger(cfg *config.Config, w io.Writer) hclog.Logger {
	return standard.Logger(cfg, "footfall", w)
}

func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}
