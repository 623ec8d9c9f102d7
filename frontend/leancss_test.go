package frontend

import (
	"bytes"
	"io/fs"
	"regexp"
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
// script names no "antd_" class, every other selector of main.css is still
// there, and about half of the text is gone.
func TestLeanEditorCSS(t *testing.T) {
	if !BundleBuilt() {
		t.Skip("the widget bundle is not built")
	}
	css, err := fs.ReadFile(Static(), EditorCSS)
	if err != nil {
		t.Fatal(err)
	}
	js, err := fs.ReadFile(Static(), EditorJS)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(js, []byte(unusedClassPrefix)) {
		t.Fatalf("main.js names a class starting with %q: its rules must stay", unusedClassPrefix)
	}
	lean := LeanEditorCSS()
	if len(lean) > len(css)*6/10 || len(lean) < len(css)/3 {
		t.Errorf("lean stylesheet: %d of %d bytes", len(lean), len(css))
	}
	for i, c := range lean {
		if c >= 0x80 {
			t.Fatalf("byte %d of the lean stylesheet is not ASCII", i)
		}
	}
	// Every class name the script can use keeps all of its rules.
	classes := regexp.MustCompile(`\.(ant-[a-zA-Z0-9_-]+|ls-[a-zA-Z0-9_-]+|[A-Z][a-zA-Z]*_[a-zA-Z0-9_-]+)`)
	count := func(b []byte) map[string]int {
		m := map[string]int{}
		for _, n := range classes.FindAll(b, -1) {
			m[string(n)]++
		}
		return m
	}
	before, after := count(css), count(lean)
	if len(before) < 1000 {
		t.Fatalf("only %d class names found in main.css", len(before))
	}
	for name, n := range before {
		if after[name] != n {
			t.Errorf("%s: %d times in main.css, %d in the lean copy", name, n, after[name])
		}
	}
	if n := bytes.Count(lean, []byte("{")); n < 3000 {
		t.Errorf("only %d blocks left", n)
	}
	// Nothing outside :not(), keyframe names and animations names the prefix.
	stripped := regexp.MustCompile(`:not\([^)]*\)|@(-webkit-)?keyframes antd_[^{]*|animation(-name)?:[^;}]*`).ReplaceAll(lean, nil)
	if i := bytes.Index(stripped, []byte("."+unusedClassPrefix)); i >= 0 {
		t.Errorf("a rule of the CSS-module copy is left: %s", stripped[max(0, i-200):min(len(stripped), i+100)])
	}
}
