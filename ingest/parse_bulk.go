package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	analytics "github.com/footfall/analytics"
)

// parseBulkBody is the JSON body of a bulk tracking request. It is
// decoded in one pass with numbers kept as written (json.Number): an item
// is a string or a map[string]any.
type parseBulkBody struct {
	Requests  []any `json:"requests"`
	TokenAuth any   `json:"token_auth"`
	SendImage any   `json:"send_image"`
}

// parseIsBulk reports whether a POST body is a bulk request: like Matomo,
// any body that contains "requests" in double or single quotes, whatever
// its Content-Type.
func parseIsBulk(body []byte) bool {
	return bytes.Contains(body, []byte(`"requests"`)) || bytes.Contains(body, []byte(`'requests'`))
}

// parseBulk decodes a bulk body. Errors wrap analytics.ErrInvalid.
func parseBulk(body []byte, maxItems int) (*parseBulkBody, error) {
	var b parseBulkBody
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&b); err != nil {
		return nil, fmt.Errorf("ingest: bulk request: malformed JSON: %w", analytics.ErrInvalid)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("ingest: bulk request: malformed JSON: %w", analytics.ErrInvalid)
	}
	if b.Requests == nil {
		return nil, fmt.Errorf("ingest: bulk request: no \"requests\" array: %w", analytics.ErrInvalid)
	}
	if len(b.Requests) > maxItems {
		return nil, fmt.Errorf("ingest: bulk request: %d requests, at most %d allowed: %w",
			len(b.Requests), maxItems, analytics.ErrInvalid)
	}
	return &b, nil
}

// token returns the top-level token_auth ("" when absent).
func (b *parseBulkBody) token() string {
	s, _ := parseJSONScalar(b.TokenAuth)
	return s
}

// sendImage reports whether a successful bulk answer is the JSON document
// (true) or 204 No Content (send_image 0 or false).
func (b *parseBulkBody) sendImage() bool {
	s, ok := parseJSONScalar(b.SendImage)
	return !ok || parseWantImage(s)
}

// parseBulkItem fills p from one element of "requests". A string must hold
// a query part after '?' ("?idsite=1&rec=1"); one without '?' is dropped
// silently (drop true), as Matomo does. An object's members are the
// parameters. Anything else is invalid.
func parseBulkItem(item any, p *parseParams) (drop bool, err error) {
	switch it := item.(type) {
	case string:
		_, q, ok := strings.Cut(it, "?")
		if !ok {
			return true, nil
		}
		q, _, _ = strings.Cut(q, "#")
		p.scan(q)
		return false, nil
	case map[string]any:
		for k, v := range it {
			if s, ok := parseJSONValue(v); ok {
				p.set(k, s)
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("ingest: bulk item: need a query string or an object: %w", analytics.ErrInvalid)
}

// parseJSONScalar reads a decoded JSON scalar as the string PHP would see:
// a string as is, a number as written, true as "1", false as "0". It
// reports false for null, arrays and objects.
func parseJSONScalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "1", true
		}
		return "0", true
	}
	return "", false
}

// parseJSONValue reads a parameter value of a bulk object: scalars as
// parseJSONScalar does, arrays and objects as their JSON text (so that
// "ec_items": [[…]] and "_pkc": ["a","b"] work), null as absent.
func parseJSONValue(v any) (string, bool) {
	switch v.(type) {
	case []any, map[string]any:
		b, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	return parseJSONScalar(v)
}
