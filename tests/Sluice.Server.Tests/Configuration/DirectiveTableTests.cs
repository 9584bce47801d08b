using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

/// <summary>
/// The directive table drives the tests as it drives the parser: every directive it reads is given a valid value
/// and an invalid one in each section it belongs to, and refused with the message the table gives.
/// </summary>
public sealed class DirectiveTableTests
{
    /// <summary>Each directive the table reads (it has a value kind), in each section it may appear in.</summary>
    public static TheoryData<string, string> TableDirectives()
    {
        var data = new TheoryData<string, string>();
        foreach (var directive in ConfigDirectives.List.Where(d => d.Value is not null))
        {
            foreach (var section in new[] { ConfigSection.Global, ConfigSection.Feed, ConfigSection.Stream })
            {
                if (directive.Sections.HasFlag(section))
                {
                    data.Add(directive.Name, section.ToString());
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TableDirectives))]
    public void A_valid_value_is_read_and_set(string name, string sectionName)
    {
        var section = Enum.Parse<ConfigSection>(sectionName);
        var directive = ConfigDirectives.ByName[name];
        var line = $"{name} {directive.ValidArgument}".TrimEnd();

        var result = ConfigParser.Parse(Config(section, line), "t.conf");

        Assert.True(result.Succeeded, $"{line}: {string.Join("; ", result.Errors)}");
        var baseline = ConfigParser.Parse(Config(section, null), "t.conf").Config!;
        var sets = section switch
        {
            ConfigSection.Global => directive.SetGlobal is not null,
            ConfigSection.Feed => directive.SetFeed is not null,
            _ => directive.SetStream is not null,
        };
        if (sets)
        {
            Assert.NotEqual(Section(baseline, section), Section(result.Config!, section));
        }
        else
        {
            Assert.Equal(Section(baseline, section), Section(result.Config!, section));
        }
    }

    [Theory]
    [MemberData(nameof(TableDirectives))]
    public void An_invalid_value_is_refused_with_the_tables_message(string name, string sectionName)
    {
        var section = Enum.Parse<ConfigSection>(sectionName);
        var directive = ConfigDirectives.ByName[name];
        var kind = directive.Value!;
        string line, message;
        if (kind.Invalid is { } invalid)
        {
            (line, message) = ($"{name} {invalid}", kind.Message(name, invalid));
        }
        else if (directive.MaxArgs == 0)
        {
            // A word after a directive that takes none: ffserver 3.4 ignored it, and Sluice does with a warning.
            var flagged = ConfigParser.Parse(Config(section, $"{name} x"), "t.conf");
            Assert.Empty(flagged.Errors);
            Assert.Contains($"t.conf:{LineOf(section)}: {name} takes no arguments; ignoring 'x', as ffserver 3.4 did (usage: {directive.Usage})", flagged.Warnings.Select(w => w.ToString()));
            return;
        }
        else if (directive.MinArgs > 0)
        {
            (line, message) = (name, $"{name} needs an argument; usage: {directive.Usage}");
        }
        else
        {
            Assert.Equal("LoadModule", name); // takes anything or nothing: the one directive with no wrong way to write it
            return;
        }

        var result = ConfigParser.Parse(Config(section, line), "t.conf");

        Assert.Equal([$"t.conf:{LineOf(section)}: {message}"], result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void The_messages_say_the_range_and_unit_of_the_table()
    {
        Assert.Equal("invalid port '0' for HTTPPort: expected a whole number from 1 to 65535", ValueKind.Port.Message("HTTPPort", "0"));
        Assert.Equal("invalid HLSListSize '2': expected a whole number of segments from 3 to 1000", ConfigDirectives.ByName["HLSListSize"].Value!.Message("HLSListSize", "2"));
        Assert.Equal("invalid VideoGopSize '0': expected a positive whole number of frames, e.g. 30", ConfigDirectives.ByName["VideoGopSize"].Value!.Message("VideoGopSize", "0"));
    }

    [Fact]
    public void Every_directive_has_a_usage_that_starts_with_its_name_and_is_in_the_reference()
    {
        var reference = File.ReadAllText(Path.Combine(Path.GetDirectoryName(SeedConfigTests.ExamplePath("x"))!, "..", "docs", "configuration.md"));
        foreach (var directive in ConfigDirectives.List)
        {
            Assert.StartsWith(directive.Name, directive.Usage, StringComparison.Ordinal);
            Assert.True(directive.MinArgs <= directive.MaxArgs, directive.Name);
            Assert.Contains($"`{directive.Name}", reference, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Three_errors_in_three_sections_are_all_reported_with_their_lines()
    {
        var text = "HTTPPort 8090\nRTMPPort 8090\n<Feed f.ffm>\nFileMaxSize 8K\n</Feed>\n<Stream s>\nFeed f.ffm\nVideoQMin 70\n</Stream>\n";

        var result = ConfigParser.Parse(text, "t.conf");

        Assert.Null(result.Config);
        Assert.Equal(
            [
                "t.conf:2: RTMPPort 8090 is also the HTTPPort; RTMP needs a port of its own (1935 is RTMP's)",
                "t.conf:4: FileMaxSize 8K is too small: the minimum is 16K (16384 bytes)",
                "t.conf:8: invalid VideoQMin '70': expected a whole number from 0 to 69",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    /// <summary>The smallest valid config with <paramref name="line"/> in the section (none when null).</summary>
    private static string Config(ConfigSection section, string? line)
    {
        var directive = line is null ? "" : line + "\n";
        return section switch
        {
            ConfigSection.Global => directive,
            ConfigSection.Feed => $"<Feed f.ffm>\n{directive}</Feed>\n",
            _ => $"<Feed f.ffm>\n</Feed>\n<Feed live.ffm>\n</Feed>\n<Stream s>\nFeed f.ffm\n{directive}</Stream>\n",
        };
    }

    private static int LineOf(ConfigSection section) => section switch
    {
        ConfigSection.Global => 1,
        ConfigSection.Feed => 2,
        _ => 7,
    };

    /// <summary>What the section's directives set, without the lists of the other sections.</summary>
    private static object Section(ServerConfig config, ConfigSection section) => section switch
    {
        ConfigSection.Global => config with { Feeds = default, Streams = default, Redirects = default },
        ConfigSection.Feed => config.Feeds[0],
        _ => config.Streams[0],
    };
}
