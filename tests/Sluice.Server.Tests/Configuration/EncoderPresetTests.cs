using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

/// <summary>AVPresetVideo/AVPresetAudio files, found and read as ffserver 3.4 did.</summary>
public sealed class EncoderPresetTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"sluice-presets-{Guid.NewGuid():N}");

    public EncoderPresetTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Folder(string name)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public void The_folders_are_FFMPEG_DATADIR_then_HOME_s_ffmpeg_then_ffmpeg_s_data_folder()
    {
        var env = new Dictionary<string, string> { ["FFMPEG_DATADIR"] = "/opt/ff", ["HOME"] = "/home/u" };

        Assert.Equal(["/opt/ff", "/home/u/.ffmpeg", "/usr/share/ffmpeg"], EncoderPreset.Folders(n => env.GetValueOrDefault(n)));
        Assert.Equal(["/usr/share/ffmpeg"], EncoderPreset.Folders(_ => null));
    }

    [Fact]
    public void Each_folder_tries_the_plain_name_then_the_encoder_s_before_the_next_folder()
    {
        var first = Folder("first");
        var second = Folder("second");
        File.WriteAllText(Path.Combine(second, "fast.ffpreset"), "g=10\n");
        File.WriteAllText(Path.Combine(first, "libvpx-fast.ffpreset"), "g=20\n");

        Assert.Equal(Path.Combine(first, "libvpx-fast.ffpreset"), EncoderPreset.Find("fast", "libvpx", [first, second]));
        Assert.Equal(Path.Combine(second, "fast.ffpreset"), EncoderPreset.Find("fast", "libx264", [first, second]));

        File.WriteAllText(Path.Combine(first, "fast.ffpreset"), "g=30\n");
        Assert.Equal(Path.Combine(first, "fast.ffpreset"), EncoderPreset.Find("fast", "libvpx", [first, second]));
        Assert.Null(EncoderPreset.Find("slow", "libvpx", [first, second]));
    }

    [Fact]
    public void Its_lines_are_located_in_the_file_without_comments_and_the_codec_lines_are_told_apart()
    {
        var path = Path.Combine(Folder("p"), "libvpx-360p.ffpreset");
        File.WriteAllText(path, "vcodec=libvpx\n\ng=120\n#ignored unless using -pass 2\nmaxrate=1.5M\n deadline = good \n");

        var options = EncoderPreset.Read(path, out var error);

        Assert.Null(error);
        Assert.Equal([("vcodec", "libvpx", 1), ("g", "120", 3), ("maxrate", "1.5M", 5), ("deadline", "good", 6)], options.Select(o => (o.Name, o.Value, o.Location.Line)));
        Assert.All(options, o => Assert.Equal(path, o.Location.File));
        Assert.Equal(["vcodec"], options.Where(o => EncoderPreset.IsCodecLine(o.Name)).Select(o => o.Name));
    }

    [Fact]
    public void A_subtitle_codec_line_ends_the_file_as_in_ffserver()
    {
        var path = Path.Combine(Folder("p"), "subs.ffpreset");
        File.WriteAllText(path, "g=12\nscodec=mov_text\nqmax=40\n");

        var options = EncoderPreset.Read(path, out var error);

        Assert.Equal(["g"], options.Select(o => o.Name));
        Assert.Equal($"{path}:2: 'scodec=mov_text' names a subtitle codec, and Sluice serves no subtitles (ffserver 3.4 said \"Subtitles preset found.\" and stopped reading the file here too)", error);
    }

    [Fact]
    public void Without_a_known_encoder_only_the_plain_name_is_looked_for()
    {
        var folder = Folder("q");
        File.WriteAllText(Path.Combine(folder, "libx264-fast.ffpreset"), "g=10\n");
        Assert.Null(EncoderPreset.Find("fast", null, [folder]));
        File.WriteAllText(Path.Combine(folder, "fast.ffpreset"), "g=10\n");
        Assert.Equal(Path.Combine(folder, "fast.ffpreset"), EncoderPreset.Find("fast", null, [folder]));
    }

    [Fact]
    public void A_line_that_is_not_key_value_ends_the_file_with_an_error_naming_it()
    {
        var path = Path.Combine(Folder("p"), "bad.ffpreset");
        File.WriteAllText(path, "g=12\nqmin 3\nqmax=40\n");

        var options = EncoderPreset.Read(path, out var error);

        Assert.Equal(["g"], options.Select(o => o.Name));
        Assert.Equal($"{path}:2: invalid line 'qmin 3' (a preset line is key=value)", error);
    }
}
