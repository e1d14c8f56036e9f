// Package minify turns the tracker's readable JavaScript into the minified
// form that is committed and served. It is used by go generate (gen.go)
// and by the test that checks the committed files are up to date; it is
// not linked into programs that serve the tracker.
package minify

import (
	"errors"
	"fmt"

	"github.com/evanw/esbuild/pkg/api"
)

// Options are the esbuild settings of the committed *.min.js files:
// whitespace, identifiers and syntax minified, ES2017 output, no comments.
var Options = api.TransformOptions{
	Loader:            api.LoaderJS,
	Target:            api.ES2017,
	MinifyWhitespace:  true,
	MinifyIdentifiers: true,
	MinifySyntax:      true,
	LegalComments:     api.LegalCommentsNone,
	Charset:           api.CharsetASCII,
}

// JS minifies src, named name in error messages.
func JS(name string, src []byte) ([]byte, error) {
	opts := Options
	opts.Sourcefile = name
	res := api.Transform(string(src), opts)
	if len(res.Errors) > 0 {
		var errs []error
		for _, m := range res.Errors {
			loc := ""
			if m.Location != nil {
				loc = fmt.Sprintf("%s:%d:%d: ", m.Location.File, m.Location.Line, m.Location.Column)
			}
			errs = append(errs, fmt.Errorf("minify: %s%s", loc, m.Text))
		}
		return nil, errors.Join(errs...)
	}
	return res.Code, nil
}
