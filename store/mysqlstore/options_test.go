package mysqlstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/footfall/analytics"
)

func TestOptionsValidate(t *testing.T) {
	dsn := "u:p@tcp(db:3306)/footfall"
	for _, tc := range []struct {
		name string
		o    Options
		want string // substring of the error; "" = valid
	}{
		{"dsn", Options{DSN: dsn}, ""},
		{"config", Options{Config: &mysql.Config{DBName: "f"}}, ""},
		{"neither", Options{}, "one of DSN and Config"},
		{"both", Options{DSN: dsn, Config: mysql.NewConfig()}, "both set"},
		{"bad dsn", Options{DSN: "u:p@tcp(db:3306"}, "DSN"},
		{"negative timeout", Options{DSN: dsn, ReadTimeout: -time.Second}, "negative"},
		{"idle above open", Options{DSN: dsn, MaxOpenConns: 2, MaxIdleConns: 3}, "MaxIdleConns"},
		{"short lock wait", Options{DSN: dsn, LockWaitTimeout: time.Millisecond}, "LockWaitTimeout"},
		{"short migrate lock", Options{DSN: dsn, MigrateLockTimeout: time.Millisecond}, "MigrateLockTimeout"},
		{"negative cache", Options{DSN: dsn, DictionaryCacheSize: -1}, "DictionaryCacheSize"},
	} {
		o := tc.o
		o.setDefaults()
		err := o.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Validate = %v, want nil", tc.name, err)
		case tc.want != "" && (!errors.Is(err, analytics.ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: Validate = %v, want ErrInvalid mentioning %q", tc.name, err, tc.want)
		}
	}
	var o Options
	o.setDefaults()
	if o.MaxOpenConns != 16 || o.MaxIdleConns != 16 || o.LockWaitTimeout != 10*time.Second || o.MaxRetries != 5 ||
		o.DictionaryCacheSize != 100000 || o.Logger == nil || o.Now == nil {
		t.Errorf("defaults: %+v", o)
	}
}

// TestDriverConfig: the settings the store relies on win over the DSN's.
func TestDriverConfig(t *testing.T) {
	o := Options{DSN: "u:p@tcp(db:3306)/footfall?parseTime=false&loc=Local&interpolateParams=false&multiStatements=false&charset=latin1&sql_mode='ANSI'&foo=1"}
	o.setDefaults()
	cfg, err := driverConfig(&o)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ParseTime || cfg.Loc != time.UTC || !cfg.InterpolateParams || !cfg.MultiStatements || !cfg.ClientFoundRows {
		t.Errorf("forced settings not applied: %+v", cfg)
	}
	if cfg.Params["sql_mode"] != "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'" || cfg.Params["time_zone"] != "'+00:00'" ||
		cfg.Params["innodb_lock_wait_timeout"] != "10" || cfg.Params["foo"] != "1" {
		t.Errorf("session parameters: %v", cfg.Params)
	}
	if _, err := driverConfig(&Options{DSN: "u:p@tcp(db:3306)/"}); !errors.Is(err, analytics.ErrInvalid) {
		t.Errorf("a DSN without a database: %v, want ErrInvalid", err)
	}
}

func TestServerVersion(t *testing.T) {
	for _, tc := range []struct {
		v            string
		major, minor int
	}{{"10.11.6-MariaDB-0+deb12u1", 10, 11}, {"8.0.36", 8, 0}, {"5.5.5-10.6.12-MariaDB", 5, 5}, {"garbage", 0, 0}} {
		if ma, mi := serverVersion(tc.v); ma != tc.major || mi != tc.minor {
			t.Errorf("serverVersion(%q) = %d.%d, want %d.%d", tc.v, ma, mi, tc.major, tc.minor)
		}
	}
}

func FuzzSplitStatements(f *testing.F) {
	f.Add("CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n")
	f.Add("-- only a comment;\n")
	f.Add("ALTER TABLE a\n  ADD COLUMN y INT, -- c\n  ADD COLUMN z INT;")
	f.Add("DO 1;\nDO 2")
	f.Add(";;\n;\n")
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := splitStatements(src)
		if err != nil {
			return
		}
		if len(stmts) == 0 {
			t.Error("no statements and no error")
		}
		for _, s := range stmts {
			if strings.TrimSpace(s) == "" {
				t.Errorf("an empty statement from %q", src)
			}
			for _, line := range strings.Split(s, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "--") {
					t.Errorf("statement %q keeps a whole-line comment", s)
				}
			}
		}
	})
}
