package labelconfig

import "testing"

func TestPyConvert(t *testing.T) {
	tests := []struct {
		in   string
		kind valueKind
		repr string
	}{
		{"", kindNull, "None"},
		{"true", kindBool, "True"},
		{"FaLsE", kindBool, "False"},
		{"truth", kindString, "'truth'"},
		{"1", kindInt, "1"},
		{" 42\n", kindInt, "42"},
		{"+7", kindInt, "7"},
		{"-0", kindInt, "0"},
		{"-012", kindInt, "-12"},
		{"1_000", kindInt, "1000"},
		{"\u0661\u0662", kindInt, "12"},
		{"\U0001D7D8", kindInt, "0"},
		{"1__0", kindString, "'1__0'"},
		{"_1", kindString, "'_1'"},
		{"1_", kindString, "'1_'"},
		{"0x10", kindString, "'0x10'"},
		{"1.5", kindFloat, "1.5"},
		{".5", kindFloat, "0.5"},
		{"5.", kindFloat, "5.0"},
		{"-1e5", kindFloat, "-100000.0"},
		{"1E-5", kindFloat, "1e-05"},
		{"1e16", kindFloat, "1e+16"},
		{"1e15", kindFloat, "1000000000000000.0"},
		{"1_0.2_5", kindFloat, "10.25"},
		{"-0.0", kindFloat, "-0.0"},
		{"1e-400", kindFloat, "0.0"},
		{"1e400", kindString, "'1e400'"},
		{"inf", kindString, "'inf'"},
		{"-Infinity", kindString, "'-Infinity'"},
		{"nan", kindString, "'nan'"},
		{"1e", kindString, "'1e'"},
		{".", kindString, "'.'"},
		{"1.2.3", kindString, "'1.2.3'"},
		{"1 2", kindString, "'1 2'"},
		{"$text", kindString, "'$text'"},
	}
	for _, tt := range tests {
		kind, repr := pyConvert(tt.in)
		if kind != tt.kind || repr != tt.repr {
			t.Errorf("pyConvert(%q) = %v %s, want %v %s", tt.in, kind, repr, tt.kind, tt.repr)
		}
	}
}

func TestPyStrRepr(t *testing.T) {
	tests := map[string]string{
		"abc":        `'abc'`,
		"it's":       `"it's"`,
		`a'b"c`:      `'a\'b"c'`,
		`back\`:      `'back\\'`,
		"a\nb\tc":    `'a\nb\tc'`,
		"\x00\x7f":   `'\x00\x7f'`,
		"\u00a0é":    `'\xa0é'`,
		"\u2028":     `'\u2028'`,
		"\U000E0001": `'\U000e0001'`,
	}
	for in, want := range tests {
		if got := pyStrRepr(in); got != want {
			t.Errorf("pyStrRepr(%q) = %s, want %s", in, got, want)
		}
	}
	if got := pyListRepr([]string{"a", "b", "c"}, 2); got != "['a', 'b', ...]" {
		t.Errorf("pyListRepr = %s", got)
	}
}
