package frontend

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDropClassRules(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"rules without the prefix stay", `.a{color:red}.b .c>d{x:y}`, `.a{color:red}.b .c>d{x:y}`},
		{"a rule of the prefix goes", `.a{x:1}.antd_a__1{x:2}.b{x:3}`, `.a{x:1}.b{x:3}`},
		{"only its selectors go from a list", `.a, .antd_a__1 .b ,.c:hover{x:1}`, `.a,.c:hover{x:1}`},
		{"the class anywhere in a compound", `div.x .y.antd_b__2>span{x:1}.antd_c__3:before{x:2}`, ``},
		{"a class with another prefix stays", `.my-antd_a{x:1}.ant-btn{x:2}`, `.my-antd_a{x:1}.ant-btn{x:2}`},
		{"inside :not() it stays", `.a:not(.antd_b__1){x:1}`, `.a:not(.antd_b__1){x:1}`},
		{"inside attribute selectors it stays", `[class*=".antd_x"]{x:1}[data-x=".antd_y"] a{x:2}`, `[class*=".antd_x"]{x:1}[data-x=".antd_y"] a{x:2}`},
		{"@media keeps what is left", `@media (max-width:575px){.antd_a__1{x:1}.a{x:2}}`, `@media (max-width:575px){.a{x:2}}`},
		{"an empty @media goes", `.a{x:1}@media screen{.antd_a__1{x:1}}.b{x:2}`, `.a{x:1}.b{x:2}`},
		{"nested groups", `@supports (display:grid){@media print{.antd_a{x:1}}@media screen{.b{x:1}}}`, `@supports (display:grid){@media screen{.b{x:1}}}`},
		{"other at-rules stay as they are", `@keyframes antd_spin__1{0%{x:1}to{x:2}}@font-face{font-family:f}@charset "utf-8";`, `@keyframes antd_spin__1{0%{x:1}to{x:2}}@font-face{font-family:f}@charset "utf-8";`},
		{"strings with braces, commas and dots", `.a:after{content:"}{,.antd_x"}.antd_y{content:"{"}.b{x:1}`, `.a:after{content:"}{,.antd_x"}.b{x:1}`},
		{"comments go, licence notes stay", `/*! licence */.a{x:1}/* .antd_x{ */.b{x:2}`, `/*! licence */.a{x:1}.b{x:2}`},
		{"a comment inside a selector list", `.a/* , .antd_x */,.antd_y{x:1}`, `.a/* , .antd_x */{x:1}`},
		{"escapes in selectors", `.a\.antd_x{x:1}.antd_\31 x{x:2}`, `.a\.antd_x{x:1}`},
		{"characters beyond ASCII become escapes", `.a:before{content:"←"}.b:after{content:"→ é"}`, `.a:before{content:"\2190 "}.b:after{content:"\2192  \e9 "}`},
		{"whitespace between rules goes", ".a{x:1}\n\n .b{x:2}\n", ".a{x:1}.b{x:2}"},
		{"a block without an end is kept", `.a{x:1}.b{x:2`, `.a{x:1}.b{x:2`},
		{"stray semicolons and a block without a prelude", `;.a{x:1};{x:2}.b{x:3}`, `.a{x:1}{x:2}.b{x:3}`},
		{"a stray brace keeps what follows", `.a{x:1}}.antd_b{x:2}.c{x:3}@media print{}.d{x:4}}.e{x:5}`, `.a{x:1}}.c{x:3}.d{x:4}}.e{x:5}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(DropClassRules([]byte(tc.in), "antd_")); got != tc.want {
				t.Errorf("DropClassRules(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestLeanEditorCSS checks the lean stylesheet against the real bundle: the
// script names no "antd_" class, every selector of main.css that needs no
// unused class is still there, about half of the text is gone, and the
// components the widget has keep their rules.
func TestLeanEditorCSS(t *testing.T) {
	if !BundleBuilt() {
		t.Skip("the widget bundle is not built")
	}
	css := staticFile(t, EditorCSS)
	js := staticFile(t, EditorJS)
	if bytes.Contains(js, []byte(unusedClassPrefix)) {
		t.Fatalf("main.js names a class starting with %q: its rules must stay", unusedClassPrefix)
	}
	unused := editorClassUnused()
	// What the bundle of label-studio 0.9.1 has and has not.
	for class, want := range map[string]bool{
		"antd_ant-btn__3C5kT": true, "ant-picker-dropdown": true, "ant-upload": true, "ant-steps-item": true,
		"ant-drawer-open": true, "ant-input-number": true, "ant-back-top": true, "ant-select-tree-node": true,
		"ant-btn-rtl": true, "ant-select-dropdown-rtl": true,
		"ant-btn": false, "ant-btn-primary": false, "ant-input": false, "ant-input-group-compact": false,
		"ant-select-dropdown": false, "ant-form-item": false, "ant-tree-treenode": false, "ant-modal-wrap": false,
		"ant-col-xs-12": false, "ant-tooltip-inner": false, "ant-motion-collapse": false, "ant-slide-up-enter": false,
		"ls-panel": false, "Panel_container__3AO29": false, "ant-rtl-x": false,
	} {
		if got := unused([]byte(class)); got != want {
			t.Errorf("unused(%q) = %v, want %v", class, got, want)
		}
	}
	lean := LeanEditorCSS()
	if len(lean) > len(css)*5/10 || len(lean) < len(css)/4 {
		t.Errorf("lean stylesheet: %d of %d bytes", len(lean), len(css))
	}
	for i, c := range lean {
		if c >= 0x80 {
			t.Fatalf("byte %d of the lean stylesheet is not ASCII", i)
		}
	}
	// Every selector that needs no unused class is still there, and no
	// selector outside :not() names an unused class.
	sel := regexp.MustCompile(`[^{}@;]+\{`)
	selectors := func(b []byte) map[string]int {
		b = DropRules(b, func([]byte) bool { return false }) // without comments
		m := map[string]int{}
		for _, at := range sel.FindAllIndex(b, -1) {
			if at[0] > 0 && !strings.ContainsRune("{};", rune(b[at[0]-1])) {
				continue // the rest of an at-rule's prelude
			}
			for _, one := range bytes.Split(b[at[0]:at[1]-1], []byte(",")) {
				m[string(bytes.TrimSpace(one))]++
			}
		}
		return m
	}
	classes := regexp.MustCompile(`\.([a-zA-Z_][a-zA-Z0-9_-]*)`)
	needs := func(s string) bool {
		s = regexp.MustCompile(`:not\([^)]*\)`).ReplaceAllString(s, "")
		for _, m := range classes.FindAllStringSubmatch(s, -1) {
			if unused([]byte(m[1])) {
				return true
			}
		}
		return false
	}
	before, after := selectors(css), selectors(lean)
	if len(before) < 5000 {
		t.Fatalf("only %d selectors found in main.css", len(before))
	}
	kept := 0
	for s, n := range before {
		if strings.HasPrefix(s, "@") || strings.Contains(s, "%") || s == "from" || s == "to" {
			continue // at-rules and keyframes
		}
		if needs(s) {
			if after[s] != 0 {
				t.Errorf("%s: needs an unused class, yet %d times in the lean copy", s, after[s])
			}
			continue
		}
		kept++
		if after[s] != n {
			t.Errorf("%s: %d times in main.css, %d in the lean copy", s, n, after[s])
		}
	}
	if kept < 3000 {
		t.Errorf("only %d selectors kept", kept)
	}
}

// TestUnusedEditorClassesStaysSafe: a class is kept as soon as the script
// or our own files could name it.
func TestUnusedEditorClassesStaysSafe(t *testing.T) {
	base := []byte(`var p=o("btn",a);"rtl"===d&&x;`)
	for _, tc := range []struct {
		name  string
		js    string
		ours  string
		class string
		want  bool
	}{
		{"absent component", "", "", "ant-picker-panel", true},
		{"present component", "", "", "ant-btn-lg", false},
		{"component named by the script", `g("picker",r)`, "", "ant-picker-panel", false},
		{"component named with single quotes", `g('picker',r)`, "", "ant-picker-panel", false},
		{"class named whole", `"ant-picker-panel"`, "", "ant-picker", false},
		{"class named by our files", "", `<div class="ant-picker">`, "ant-picker-panel", false},
		{"rtl only compared", "", "", "ant-btn-rtl", true},
		{"rtl handed on", `{direction:"rtl"}`, "", "ant-btn-rtl", false},
		{"rtl class named", `"ant-btn-rtl"`, "", "ant-btn-rtl", false},
		{"module copy", "", "", "antd_ant-btn__1", true},
		{"module copy named", `"antd_x"`, "", "antd_ant-btn__1", false},
		{"not Ant Design", "", "", "picker-panel", false},
		{"an unknown prefix", "", "", "ant-newthing", false},
		{"a longer prefix first", `o("tree",a)`, "", "ant-tree-select-x", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := append(append([]byte{}, base...), tc.js...)
			if got := UnusedEditorClasses(js, []byte(tc.ours))([]byte(tc.class)); got != tc.want {
				t.Errorf("%s with %q/%q: got %v, want %v", tc.class, tc.js, tc.ours, got, tc.want)
			}
		})
	}
}

// referenceUnused is UnusedEditorClasses as first written: every fact it
// decides by a search of the whole texts. The indexed version must find
// the same facts.
func referenceUnused(js []byte, ours ...[]byte) func(class []byte) bool {
	named := func(s string) bool {
		return bytes.Contains(js, []byte(s)) || slices.ContainsFunc(ours, func(b []byte) bool { return bytes.Contains(b, []byte(s)) })
	}
	moduleCopy := !named(unusedClassPrefix)
	absent := map[string]bool{}
	for _, p := range antdPrefixes {
		absent[p] = !bytes.Contains(js, []byte(`"`+p+`"`)) && !bytes.Contains(js, []byte(`'`+p+`'`)) && !named("ant-"+p)
	}
	rtl := onlyCompared(js, `"rtl"`) && onlyCompared(js, `'rtl'`) && !rtlClass.Match(js) && !slices.ContainsFunc(ours, rtlClass.Match)
	return classTest(moduleCopy, rtl, absent)
}

// TestUnusedEditorClassesAgreesWithReference compares the indexed tests
// with plain searches: on random texts made of the pieces the tests look
// for, and on the embedded bundle for every class of its stylesheet.
func TestUnusedEditorClassesAgreesWithReference(t *testing.T) {
	var classes [][]byte
	for _, p := range antdPrefixes {
		for _, suffix := range []string{"", "-x", "-rtl", "-x-rtl", "x"} {
			classes = append(classes, []byte("ant-"+p+suffix))
		}
	}
	classes = append(classes, []byte("antd_ant-btn__1"), []byte("ant-rtl"), []byte("ant--rtl"), []byte("plain"))
	pieces := []string{`"`, `'`, "ant-", "antd_", "rtl", "-rtl", "===", "!==", "(", ",", " ", "X", "_", "-", "0",
		"picker", "btn", "tree", "select", "tree-select", "col", "collapse", "input", "input-number", "time", "timeline"}
	rnd := rand.New(rand.NewPCG(1, 2))
	text := func() []byte {
		var b []byte
		for range rnd.IntN(40) {
			b = append(b, pieces[rnd.IntN(len(pieces))]...)
		}
		return b
	}
	for i := range 3000 {
		js, ours := text(), text()
		got, want := UnusedEditorClasses(js, ours), referenceUnused(js, ours)
		for _, c := range classes {
			if got(c) != want(c) {
				t.Fatalf("case %d: %q with script %q and ours %q: got %v, reference %v", i, c, js, ours, got(c), want(c))
			}
		}
	}
	if !BundleBuilt() {
		t.Skip("the widget bundle is not built: compared on random texts only")
	}
	js := staticFile(t, EditorJS)
	css := staticFile(t, EditorCSS)
	got, want := UnusedEditorClasses(js), referenceUnused(js)
	n := 0
	for _, m := range regexp.MustCompile(`\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)`).FindAllSubmatch(css, -1) {
		if got(m[1]) != want(m[1]) {
			t.Fatalf("%q: got %v, reference %v", m[1], got(m[1]), want(m[1]))
		}
		n++
	}
	if n < 10000 {
		t.Fatalf("only %d class selectors compared", n)
	}
}
