
namespace Sluice.Server.Configuration;

internal static partial class ConfigParser
{
    /// <summary>The codec lines of AVPresetVideo / AVPresetAudio files.</summary>
    private sealed partial class Session
    {
        /// <summary>
        /// ffserver 3.4 read a preset file at its AVPreset line, and its <c>vcodec=</c> (in a video preset) or
        /// <c>acodec=</c> (in an audio one) set the stream's codec as a VideoCodec/AudioCodec line would: the codec of a
        /// stream that named none, or, when the stream named another, "Inconsistent configuration" and no start. Sluice
        /// lets such a line choose the codec of a stream that names none (at the preset file's line, for every later
        /// message about it); where the stream names another, its own directive wins, with a warning, and a codec line of
        /// the other kind (3.4: "Option not found") is left out with a warning. A missing or broken file is said by the
        /// encoders' check, which reads its options.
        /// </summary>
        private StreamConfig PresetCodecs(StreamConfig s)
        {
            var folders = presetFolders ?? EncoderPreset.Folders().ToList();
            if (!s.NoVideo && s.Video.Preset is not null)
            {
                s = s with { Video = PresetCodec(s.Name, s.Video, video: true, folders) };
            }

            if (!s.NoAudio && s.Audio.Preset is not null)
            {
                s = s with { Audio = PresetCodec(s.Name, s.Audio, video: false, folders) };
            }

            return s;
        }

        private CodecSettings PresetCodec(string stream, CodecSettings settings, bool video, IReadOnlyList<string> folders)
        {
            string preset = settings.Preset!;
            string directive = video ? "AVPresetVideo" : "AVPresetAudio";
            string codecDirective = video ? "VideoCodec" : "AudioCodec";
            string own = video ? "vcodec" : "acodec";
            int line = settings.PresetLocation?.Line ?? 0;
            string? encoder = settings.Codec is { } named ? EncoderNames.Of(named) : null;
            if (EncoderPreset.Find(preset, encoder, folders) is not { } path)
            {
                return settings;
            }

            foreach (var codec in EncoderPreset.Read(path, out _).Where(o => EncoderPreset.IsCodecLine(o.Name)))
            {
                string at = $"{codec.Location.File}:{codec.Location.Line}";
                if (codec.Name != own)
                {
                    Warn(line, $"{directive} {preset}: {at} sets {codec.Name}={codec.Value}, which a {(video ? "video" : "audio")} preset cannot set; ffserver 3.4 refused the config (\"Option not found: '{codec.Name}'\"), Sluice leaves the line out");
                }
                else if (settings.Codec is null)
                {
                    settings = settings with { Codec = codec.Value, CodecLocation = codec.Location };
                }
                else if (EncoderNames.Of(settings.Codec) != EncoderNames.Of(codec.Value))
                {
                    string where = settings.CodecLocation is { } written && written.File == file ? $" on line {written.Line}" : settings.CodecLocation is { } other ? $" at {other}" : "";
                    Warn(line, $"{directive} {preset}: {at} sets {own}={codec.Value}, but <Stream {stream}> names {codecDirective} {settings.Codec}{where}; ffserver 3.4 refused the config (\"Inconsistent configuration\"), Sluice encodes with {settings.Codec}, as the stream says");
                }
            }

            return settings;
        }
    }
}
