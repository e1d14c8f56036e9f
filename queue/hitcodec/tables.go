package hitcodec

// The affix tables of format version 1. They are part of the format:
// never change or reorder an entry; a new table needs a new Version (and
// Decode keeps the old one for old input). Index 0 means "none".

// uaPrefixes are common starts of browser user agents (2024–2026).
var uaPrefixes = [...]string{
	"",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/",
	"Mozilla/5.0 (Linux; Android ",
	"Mozilla/5.0 (iPhone; CPU iPhone OS ",
	"Mozilla/5.0 (iPad; CPU OS ",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:",
	"Mozilla/5.0 (X11; Linux x86_64; rv:",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ",
	"Mozilla/5.0 (Windows NT ",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X ",
	"Mozilla/5.0 (X11; ",
	"Mozilla/5.0 (Linux; ",
	"Mozilla/5.0 (compatible; ",
	"Mozilla/5.0 (",
	"Mozilla/",
}

// uaSuffixes are common ends of browser user agents; at most affixSpan
// entries.
var uaSuffixes = [...]string{
	"",
	" Safari/537.36",
	" Mobile Safari/537.36",
	" Mobile/15E148 Safari/604.1",
	" Safari/605.1.15",
	" Safari/604.1",
}

// urlPrefixes are URL schemes and the common host start.
var urlPrefixes = [...]string{
	"",
	"https://www.",
	"https://",
	"http://www.",
	"http://",
}
