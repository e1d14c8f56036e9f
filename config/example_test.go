package config_test

import (
	"errors"
	"fmt"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
)

func ExampleParse() {
	src := []byte(`
queue {
  driver = "redis"
  shards = 32
}
ingest {
  trusted_proxies   = ["10.0.0.0/8"]
  client_ip_headers = ["X-Forwarded-For"]
}
`)
	env := []string{
		"FOOTFALL_QUEUE_REDIS_URL=redis://:s3cret@redis.internal:6379/0",
		"FOOTFALL_TRACKER_VISIT_LENGTH=45m",
		"HOME=/root", // not FOOTFALL_*: ignored
	}
	cfg, err := config.Parse(src, "footfall.hcl", env)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Queue.Driver, cfg.Queue.Shards, cfg.Tracker.VisitLength)
	fmt.Println(cfg.TrustedProxyPrefixes())
	fmt.Println(cfg.Queue.Redis.URL == "redis://:s3cret@redis.internal:6379/0")
	fmt.Print(cfg.Queue.Redis) // secrets never print
	// Output:
	// redis 32 45m0s
	// [10.0.0.0/8]
	// true
	// redis {
	//   url               = "redis://:xxxxx@redis.internal:6379/0"
	//   url_file          = ""
	//   prefix            = "footfall"
	//   lease_ttl         = "15s"
	//   max_memory        = "0"
	//   dead_letter_after = 5
	// }
}

func ExampleParse_errors() {
	src := []byte(`
queue {
  shardz = 32
}
tracker {
  visit_length = "30"
}
`)
	_, err := config.Parse(src, "footfall.hcl", []string{"FOOTFALL_QUEUE_DRIVR=redis"})
	fmt.Println(err)
	fmt.Println(errors.Is(err, analytics.ErrInvalid))
	// Output:
	// config: footfall.hcl:3,3: unknown attribute "shardz" in block "queue" (did you mean "shards"?)
	// config: footfall.hcl:6,18: tracker.visit_length: invalid duration "30" (use a number and a unit: "10s", "30m", "24h")
	// config: FOOTFALL_QUEUE_DRIVR: unknown variable (did you mean "FOOTFALL_QUEUE_DRIVER"?)
	// true
}

func ExampleConfig_Marshal() {
	cfg := config.Default()
	cfg.Store.Driver = "mysql"
	cfg.Store.MySQL.DSNFile = "/secrets/mysql_dsn"
	cfg.Queue.Shards = 64
	out, err := cfg.Marshal()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// queue {
	//   shards = 64
	// }
	//
	// store {
	//   driver = "mysql"
	//
	//   mysql {
	//     dsn_file = "/secrets/mysql_dsn"
	//   }
	// }
}

func ExampleLoad() {
	// No file: defaults plus the environment.
	cfg, err := config.Load("", []string{"FOOTFALL_INGEST_LISTEN=:9000"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Ingest.Listen, cfg.Store.Driver, cfg.SQLitePath())
	// Output:
	// :9000 sqlite footfall-data/footfall.db
}
