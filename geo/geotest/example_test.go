package geotest_test

import (
	"fmt"
	"testing"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/geo/geotest"
	"github.com/footfall/analytics/geo/staticgeo"
)

// A driver's conformance test: a constructor and the addresses it knows.
func ExampleRun() {
	testConformance := func(t *testing.T) {
		london := analytics.Location{CountryCode: "gb", City: "London"}
		geotest.Run(t, func(t *testing.T) analytics.Geo {
			g, err := staticgeo.New(map[string]analytics.Location{"81.2.69.0/24": london})
			if err != nil {
				t.Fatal(err)
			}
			return g
		}, []geotest.Case{
			{Name: "london", Addr: "81.2.69.142", Want: london},
			{Name: "unknown", Addr: "8.8.8.8"},
		})
	}
	_ = testConformance // func TestConformance(t *testing.T) { … } in a _test.go file
}

func ExampleCheck() {
	fmt.Println(geotest.Check(analytics.Location{CountryCode: "gb"}))
	fmt.Println(geotest.Check(analytics.Location{CountryCode: "GB"}))
	fmt.Println(geotest.Check(analytics.Location{CountryCode: "gb", Latitude: 51.5}))
	// Output:
	// <nil>
	// country code "GB" is not two lower-case letters
	// coordinates 51.5,0 without HasCoords
}
