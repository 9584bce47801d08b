using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// ISO BMFF (ISO/IEC 14496-12) wire values shared by Sluice's MP4 writers and readers: box types as big-endian
/// FourCCs, the esds object types (ISO 14496-1 and MP4RA), sample flags and the movie fragment boxes' flags.
/// </summary>
internal static class Mp4
{
    public const string FormatName = "MP4";

    // Box types.
    public const uint Ftyp = 0x66747970; // "ftyp"
    public const uint Moov = 0x6D6F6F76; // "moov"
    public const uint Mvhd = 0x6D766864; // "mvhd"
    public const uint Trak = 0x7472616B; // "trak"
    public const uint Tkhd = 0x746B6864; // "tkhd"
    public const uint Mdia = 0x6D646961; // "mdia"
    public const uint Mdhd = 0x6D646864; // "mdhd"
    public const uint Hdlr = 0x68646C72; // "hdlr"
    public const uint Minf = 0x6D696E66; // "minf"
    public const uint Stbl = 0x7374626C; // "stbl"
    public const uint Stsd = 0x73747364; // "stsd"
    public const uint Stts = 0x73747473; // "stts"
    public const uint Ctts = 0x63747473; // "ctts"
    public const uint Stsc = 0x73747363; // "stsc"
    public const uint Stsz = 0x7374737A; // "stsz"
    public const uint Stz2 = 0x73747A32; // "stz2"
    public const uint Stco = 0x7374636F; // "stco"
    public const uint Co64 = 0x636F3634; // "co64"
    public const uint Stss = 0x73747373; // "stss"
    public const uint Edts = 0x65647473; // "edts"
    public const uint Elst = 0x656C7374; // "elst"
    public const uint Mvex = 0x6D766578; // "mvex"
    public const uint Trex = 0x74726578; // "trex"
    public const uint Moof = 0x6D6F6F66; // "moof"
    public const uint Traf = 0x74726166; // "traf"
    public const uint Tfhd = 0x74666864; // "tfhd"
    public const uint Tfdt = 0x74666474; // "tfdt"
    public const uint Trun = 0x7472756E; // "trun"
    public const uint Mdat = 0x6D646174; // "mdat"
    public const uint Wave = 0x77617665; // "wave": QuickTime's sound description extension, holding the esds
    public const uint Free = 0x66726565; // "free"
    public const uint Skip = 0x736B6970; // "skip"
    public const uint Wide = 0x77696465; // "wide": QuickTime's room for a 64-bit mdat header
    public const uint Styp = 0x73747970; // "styp"
    public const uint Uuid = 0x75756964; // "uuid"

    // Sample entries (stsd children) and their configuration boxes.
    public const uint Avc1 = 0x61766331; // "avc1"
    public const uint Avc3 = 0x61766333; // "avc3"
    public const uint AvcC = 0x61766343; // "avcC"
    public const uint Hvc1 = 0x68766331; // "hvc1"
    public const uint Hev1 = 0x68657631; // "hev1"
    public const uint HvcC = 0x68766343; // "hvcC"
    public const uint Av01 = 0x61763031; // "av01"
    public const uint Av1C = 0x61763143; // "av1C"
    public const uint Vp09 = 0x76703039; // "vp09"
    public const uint Mp4v = 0x6D703476; // "mp4v"
    public const uint Mp4a = 0x6D703461; // "mp4a"
    public const uint Esds = 0x65736473; // "esds"
    public const uint Opus = 0x4F707573; // "Opus"
    public const uint DOps = 0x644F7073; // "dOps"
    public const uint DotMp3 = 0x2E6D7033; // ".mp3"
    public const uint Ac3 = 0x61632D33; // "ac-3"
    public const uint Dac3 = 0x64616333; // "dac3"
    public const uint FLaC = 0x664C6143; // "fLaC"
    public const uint DfLa = 0x64664C61; // "dfLa"
    public const uint Encv = 0x656E6376; // "encv": encrypted video
    public const uint Enca = 0x656E6361; // "enca": encrypted audio

    // Handler types (hdlr).
    public const uint Vide = 0x76696465; // "vide"
    public const uint Soun = 0x736F756E; // "soun"

    /// <summary>Object type indications of the esds DecoderConfigDescriptor (MP4RA).</summary>
    public const byte ObjectTypeMpeg4Visual = 0x20;
    public const byte ObjectTypeAac = 0x40;
    public const byte ObjectTypeMpeg2AacMain = 0x66;
    public const byte ObjectTypeMpeg2AacLc = 0x67;
    public const byte ObjectTypeMpeg2AacSsr = 0x68;
    public const byte ObjectTypeMpeg2SimpleVideo = 0x60;
    public const byte ObjectTypeMpeg2MainVideo = 0x61;
    public const byte ObjectTypeMpeg2Video422 = 0x65;
    public const byte ObjectTypeMpeg2Audio = 0x69;
    public const byte ObjectTypeMpeg1Video = 0x6A;
    public const byte ObjectTypeMpeg1Audio = 0x6B;

    /// <summary>streamType of the DecoderConfigDescriptor (ISO 14496-1 table 6).</summary>
    public const int StreamTypeVisual = 0x04;
    public const int StreamTypeAudio = 0x05;

    /// <summary>Sample flags (ISO 14496-12 8.8.3.1): sample_depends_on 1 (depends on others) and 2 (on none), sample_is_non_sync_sample.</summary>
    public const uint SampleDependsOnOthers = 0x0100_0000;
    public const uint SampleDependsOnNone = 0x0200_0000;
    public const uint SampleIsNonSync = 0x0001_0000;

    /// <summary>tfhd flags (ISO 14496-12 8.8.7.1).</summary>
    public const uint TfhdBaseDataOffset = 0x000001;
    public const uint TfhdSampleDescriptionIndex = 0x000002;
    public const uint TfhdDefaultDuration = 0x000008;
    public const uint TfhdDefaultSize = 0x000010;
    public const uint TfhdDefaultFlags = 0x000020;
    public const uint TfhdDefaultBaseIsMoof = 0x020000;

    /// <summary>trun flags (ISO 14496-12 8.8.8.1).</summary>
    public const uint TrunDataOffset = 0x000001;
    public const uint TrunFirstSampleFlags = 0x000004;
    public const uint TrunDuration = 0x000100;
    public const uint TrunSize = 0x000200;
    public const uint TrunFlags = 0x000400;
    public const uint TrunCompositionOffset = 0x000800;

    /// <summary>Box types that may begin an MP4 or QuickTime file: a file that begins with another is not one.</summary>
    public static bool MayBeginFile(uint type) => type is Ftyp or Moov or Mdat or Moof or Free or Skip or Wide or Styp or Uuid;

    /// <summary>A box type as text for messages ("stsz"; unprintable bytes as hex).</summary>
    public static string TypeName(uint type)
    {
        Span<char> text = stackalloc char[4];
        for (int i = 0; i < 4; i++)
        {
            char c = (char)((type >> (24 - (8 * i))) & 0xFF);
            if (c is < ' ' or > '~')
            {
                return $"0x{type:X8}";
            }

            text[i] = c;
        }

        return new string(text);
    }

    public static uint FourCc(ReadOnlySpan<byte> name) => BinaryPrimitives.ReadUInt32BigEndian(name);

    [DoesNotReturn]
    public static void Throw(long offset, string message) => throw new MediaFormatException(FormatName, offset, message);
}
