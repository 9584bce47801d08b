namespace Sluice.Media.Formats.Rtmp;

/// <summary>Wire values of RTMP (Adobe's RTMP specification 1.0, December 2012, and Enhanced RTMP).</summary>
public static class Rtmp
{
    public const string FormatName = "RTMP";

    public const byte Version = 3;

    /// <summary>Length of C1, S1, C2 and S2.</summary>
    public const int HandshakeLength = 1536;

    public const int DefaultChunkSize = 128;

    /// <summary>The chunk size Sluice sends with, announced to every peer right after connect.</summary>
    public const int OutgoingChunkSize = 4096;

    // Message types.
    public const byte SetChunkSize = 1;
    public const byte AbortMessage = 2;
    public const byte Acknowledgement = 3;
    public const byte UserControl = 4;
    public const byte WindowAcknowledgementSize = 5;
    public const byte SetPeerBandwidth = 6;
    public const byte Audio = 8;
    public const byte Video = 9;
    public const byte DataAmf3 = 15;
    public const byte CommandAmf3 = 17;
    public const byte DataAmf0 = 18;
    public const byte CommandAmf0 = 20;
    public const byte Aggregate = 22;

    // User control events.
    public const ushort StreamBegin = 0;
    public const ushort StreamEof = 1;
    public const ushort PingRequest = 6;
    public const ushort PingResponse = 7;

    // Chunk streams Sluice writes on.
    public const int ControlChunkStream = 2;
    public const int CommandChunkStream = 3;
    public const int AudioChunkStream = 4;
    public const int DataChunkStream = 5;
    public const int VideoChunkStream = 6;

    /// <summary>The message stream id createStream hands out (one stream per connection).</summary>
    public const uint MediaStreamId = 1;
}
