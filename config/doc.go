// Package config is the one configuration of every role of the footfall
// binary (ingest, admin, worker, archive, migrate, all): Config, loaded
// from an HCL file plus FOOTFALL_* environment variables, filled with
// documented defaults and validated.
//
//	cfg, err := config.Load(os.Getenv("FOOTFALL_CONFIG"), os.Environ())
//
// # Sources and precedence
//
// Every setting starts at its default (Default; each field's comment says
// "Default: …"), the file overrides it, the environment overrides the file.
// Load with an empty path uses defaults and the environment only.
//
// The file is HCL native syntax with the blocks and keys of the example
// below; values are constants (no variables or functions). Durations are
// strings for time.ParseDuration ("10s", "30m", "24h"); sizes are a whole
// number of bytes or a string with a unit ("512", "64KB" = 64000, "1MiB" =
// 1048576; see Size). An unknown key or block, a value of the wrong type,
// a bad duration or size is an error naming its place in the file:
//
//	footfall.hcl:12,3: unknown attribute "shardz" in block "queue" (did you mean "shards"?)
//	footfall.hcl:14,15: queue.redis.lease_ttl: invalid duration "15" (use a number and a unit: "10s", "30m", "24h")
//
// Every leaf setting has an environment variable named after its path,
// upper-cased, with dots as underscores: queue.driver is
// FOOTFALL_QUEUE_DRIVER, store.mysql.dsn is FOOTFALL_STORE_MYSQL_DSN,
// data_dir is FOOTFALL_DATA_DIR. Lists are comma-separated
// (FOOTFALL_INGEST_TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16), booleans
// are true/false/1/0, durations and sizes as in the file. A variable set to
// the empty string is ignored, as if unset. A FOOTFALL_* variable that is
// not a setting is an error (it is probably a typo), except
// FOOTFALL_CONFIG, FOOTFALL_REQUIRE_SERVICES and FOOTFALL_TEST_*. A bad
// value is an error naming the variable:
//
//	FOOTFALL_QUEUE_SHARDS: queue.shards: must be a whole number, got "many"
//
// Settings lists every setting with its key and variable.
//
// # Validation
//
// After loading, Validate checks every value and reports each problem with
// its key path, prefixed by where the value came from when it was not a
// default:
//
//	footfall.hcl:5,12: queue.shards: must be between 1 and 4096, got 0
//	FOOTFALL_PRIVACY_DNT: privacy.dnt: must be one of "ignore", "exclude", "count", got "yes"
//
// All errors are Errors (one line per problem) and wrap
// analytics.ErrInvalid.
//
// # Secrets
//
// The secrets are queue.redis.url, store.mysql.dsn, ingest.tracking_tokens
// and privacy.salt. Each secret x has a sibling x_file naming a file that
// holds it (relative paths are relative to the working directory), so that
// a Nomad template or a Kubernetes secret can provide it:
//
//	store {
//	  driver = "mysql"
//	  mysql { dsn_file = "/secrets/mysql_dsn" }
//	}
//
// Load reads the file (a regular file of at most 64 KiB) and trims its
// trailing newline; tracking_tokens_file holds one token a line. Setting
// both x and x_file in the file, or both FOOTFALL_X and FOOTFALL_X_FILE, is
// an error; a secret or file given in the environment replaces both of the
// file's. String, GoString and Redacted never show a secret (a URL or DSN
// keeps everything but its password), and no error message quotes one.
// This package logs nothing.
//
// # Writing configuration
//
// Marshal writes a Config as canonical HCL (only what differs from the
// defaults, in a fixed order) that Parse reads back to an equal Config;
// nomadgen renders each role's file with it. Redacted writes every setting
// for humans.
//
// # Example file
//
// Every setting, at its default:
//
//	# Where the embedded defaults keep their files.
//	data_dir = "./footfall-data"
//
//	log {
//	  level  = "info" # trace, debug, info, warn, error, off
//	  format = "text" # text or json
//	}
//
//	# The public tracking endpoint (role ingest).
//	ingest {
//	  listen = ":8080"
//	  prefix = "/"
//	  # Client IP: headers read only when the peer is a trusted proxy.
//	  trusted_proxies    = []   # e.g. ["10.0.0.0/8"]
//	  client_ip_headers  = []   # e.g. ["X-Forwarded-For"]
//	  proxy_ip_read_last = true # last address of the list, as Matomo 5
//	  # Limits: longer values are truncated, not rejected.
//	  max_body_bytes                       = "1MiB"
//	  max_bulk_items                       = 1000
//	  max_url_length                       = 2048
//	  max_field_length                     = 1024
//	  record_statistics                    = true # false: 503, track nothing
//	  site_refresh                         = "30s"
//	  custom_timestamp_requires_auth_after = "24h"
//	  bulk_requires_auth                   = false
//	  # token_auth values for cip/cdt/location overrides (secret).
//	  tracking_tokens      = []
//	  tracking_tokens_file = ""
//	}
//
//	# Dashboard and Reporting API (role admin), internal only.
//	admin {
//	  listen            = "127.0.0.1:8081"
//	  allowed_cidrs     = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
//	  force_ssl         = false
//	  maintenance       = false
//	  browser_archiving = false
//	}
//
//	queue {
//	  driver      = "memory" # memory (role all only) or redis
//	  shards      = 16       # 1–4096, the same on every node
//	  ack_timeout = "1m"
//
//	  redis {
//	    url               = "redis://127.0.0.1:6379/0" # secret
//	    url_file          = ""
//	    prefix            = "footfall"
//	    lease_ttl         = "15s"
//	    max_memory        = "0" # spool above this used_memory; 0 = no mark
//	    dead_letter_after = 5
//	  }
//
//	  spool {
//	    dir       = "" # "" = <data_dir>/spool
//	    max_bytes = "1GiB"
//	  }
//	}
//
//	store {
//	  driver = "sqlite" # sqlite or mysql
//
//	  sqlite {
//	    path = "" # "" = <data_dir>/footfall.db
//	  }
//
//	  mysql {
//	    dsn               = "" # secret: "user:password@tcp(host:3306)/db"
//	    dsn_file          = ""
//	    max_open_conns    = 16
//	    max_idle_conns    = 8
//	    conn_max_lifetime = "5m"
//	    tls               = "" # "", "true", "skip-verify", "preferred"
//	  }
//	}
//
//	geo {
//	  database = "" # a MaxMind-format .mmdb; "" = no geolocation
//	}
//
//	worker {
//	  processors = 2
//	  batch_size = 500
//	}
//
//	# Sessionization and exclusions, as Matomo's [Tracker].
//	tracker {
//	  visit_length                 = "30m"
//	  new_visit_at_midnight        = true
//	  new_visit_on_campaign_change = true
//	  new_visit_on_referrer_change = false
//	  max_actions_per_visit        = 10000
//	  excluded_query_params        = [] # besides Matomo's defaults
//	  excluded_ips                 = [] # "1.2.3.4", "10.0.0.0/8", "192.168.1.*"
//	  excluded_user_agents         = []
//	  track_bots                   = false
//	}
//
//	# Instance defaults that each site may override.
//	privacy {
//	  ipv4_mask_bytes = 2  # 0–4
//	  ipv6_mask_bits  = 80 # 0–128
//	  store_ip        = true
//	  cookieless      = false
//	  dnt             = "count" # ignore, exclude or count
//	  gpc             = "count"
//	  hash_user_id    = false
//	  consent         = "none" # none, cookies or tracking
//	  scrub_pii       = false
//	  retention_days  = 0 # 0 = keep forever
//	  salt_grace      = "24h"
//	  salt            = "" # secret; "" = generated and kept in the store
//	  salt_file       = ""
//	}
//
//	archive {
//	  interval  = "1h"
//	  today_ttl = "15m"
//	}
package config
