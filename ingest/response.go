package ingest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
)

// respGIF is the 43-byte transparent 1×1 GIF every tracking answer carries.
var respGIF, _ = base64.StdEncoding.DecodeString("R0lGODlhAQABAIAAAAAAAAAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")

// respAboutText answers a request with nothing to track.
const respAboutText = "This resource is part of Footfall, self-hosted web analytics that speaks Matomo's tracking protocol.<br>\n" +
	"It is the endpoint of the Matomo-compatible tracking API: send tracking requests here (GET, POST or bulk JSON). " +
	"Reports and the Reporting API are served elsewhere.\n"

// Header values set on every answer, shared so that the hot path does not
// allocate. They are assigned to the header map, never appended to
// (their capacity equals their length, so an Add elsewhere copies).
var (
	respTypeGIF    = []string{"image/gif"}
	respTypeJSON   = []string{"application/json"}
	respTypeHTML   = []string{"text/html; charset=utf-8"}
	respTypeText   = []string{"text/plain; charset=utf-8"}
	respLenGIF     = []string{strconv.Itoa(len(respGIF))}
	respNoStore    = []string{"no-store"}
	respTrue       = []string{"true"}
	respStar       = []string{"*"}
	respVaryOrigin = []string{"Origin"}
	respAllow      = []string{"GET, POST, OPTIONS"}
	respAllowHdrs  = []string{"Content-Type"}
	respMaxAge     = []string{"86400"}
	respNoSniff    = []string{"nosniff"}
)

// respCORS adds the CORS headers Matomo sends on non-GET answers: the
// request's Origin (or *) with credentials allowed, since the JavaScript
// tracker posts withCredentials.
func respCORS(hdr http.Header, r *http.Request) {
	if o := r.Header["Origin"]; len(o) > 0 && o[0] != "" {
		hdr["Access-Control-Allow-Origin"] = []string{o[0]}
		hdr["Vary"] = respVaryOrigin
	} else {
		hdr["Access-Control-Allow-Origin"] = respStar
	}
	hdr["Access-Control-Allow-Credentials"] = respTrue
}

// respPreflight answers an OPTIONS request.
func respPreflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	respCORS(hdr, r)
	hdr["Access-Control-Allow-Methods"] = respAllow
	if rh := r.Header["Access-Control-Request-Headers"]; len(rh) > 0 && rh[0] != "" {
		hdr["Access-Control-Allow-Headers"] = []string{rh[0]}
	} else {
		hdr["Access-Control-Allow-Headers"] = respAllowHdrs
	}
	hdr["Access-Control-Max-Age"] = respMaxAge
	hdr["Cache-Control"] = respNoStore
	w.WriteHeader(http.StatusNoContent)
}

// respImage answers a single tracking request: the GIF with status, or —
// when the client sent send_image=0 — no body (a success becomes 204).
func respImage(w http.ResponseWriter, status int, image bool) {
	if !image {
		if status == http.StatusOK {
			status = http.StatusNoContent
		}
		w.WriteHeader(status)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = respTypeGIF
	hdr["Content-Length"] = respLenGIF
	w.WriteHeader(status)
	w.Write(respGIF)
}

// respAbout answers a request with nothing to track.
func respAbout(w http.ResponseWriter, status int) {
	hdr := w.Header()
	hdr["Content-Type"] = respTypeHTML
	w.WriteHeader(status)
	w.Write([]byte(respAboutText))
}

// respPlain answers with a short plain-text message (413, 405).
func respPlain(w http.ResponseWriter, status int, msg string) {
	hdr := w.Header()
	hdr["Content-Type"] = respTypeText
	hdr["X-Content-Type-Options"] = respNoSniff
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// respBulk writes a bulk answer:
//
//	{"status":"success","tracked":N,"invalid":M[,"invalid_indices":[…]]}
//
// with status "error" (and a short "message") when msg is not empty.
// Indices are written only when showIndices (a valid token came).
func respBulk(w http.ResponseWriter, status int, tracked, invalid int, indices []int, showIndices bool, msg string) {
	b := make([]byte, 0, 96+len(msg)+8*len(indices))
	if msg == "" {
		b = append(b, `{"status":"success","tracked":`...)
	} else {
		b = append(b, `{"status":"error","tracked":`...)
	}
	b = strconv.AppendInt(b, int64(tracked), 10)
	b = append(b, `,"invalid":`...)
	b = strconv.AppendInt(b, int64(invalid), 10)
	if showIndices {
		b = append(b, `,"invalid_indices":[`...)
		for i, n := range indices {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		b = append(b, ']')
	}
	if msg != "" {
		b = append(b, `,"message":`...)
		q, _ := json.Marshal(msg)
		b = append(b, q...)
	}
	b = append(b, '}')
	hdr := w.Header()
	hdr["Content-Type"] = respTypeJSON
	hdr["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b)
}
