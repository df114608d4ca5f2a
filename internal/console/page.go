package console

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// StandalonePage returns the console page with the bundle, the styles and
// the graph inlined: one HTML file that draws the topology with no server
// and no network (`ksml topology --format html`).
func StandalonePage(g Graph) ([]byte, error) {
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		return nil, err
	}
	css, err := assets.ReadFile("assets/console.css")
	if err != nil {
		return nil, err
	}
	js, err := assets.ReadFile("assets/console.js")
	if err != nil {
		return nil, err
	}
	// encoding/json escapes <, > and & in strings, so the graph cannot
	// end the script element; the bundle is checked by a test.
	graph, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	replace := func(page []byte, old string, new []byte) ([]byte, error) {
		if bytes.Count(page, []byte(old)) != 1 {
			return nil, fmt.Errorf("console page: want one %q in index.html", old)
		}
		return bytes.Replace(page, []byte(old), new, 1), nil
	}
	style := append(append([]byte("<style>\n"), css...), "</style>"...)
	if page, err = replace(page, `<link rel="stylesheet" href="console.css">`, style); err != nil {
		return nil, err
	}
	script := []byte("<script>window.KSML_GRAPH = ")
	script = append(script, graph...)
	script = append(script, ";</script>\n<script>"...)
	script = append(script, js...)
	script = append(script, "</script>"...)
	return replace(page, `<script src="console.js"></script>`, script)
}
